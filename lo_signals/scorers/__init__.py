"""Scoring backends. Each module holds one backend; ``base`` holds what they share."""

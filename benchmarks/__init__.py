"""Benchmark scripts for lo_signals (not part of the installed package). Run all: python -m benchmarks."""

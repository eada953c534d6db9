"""Plain text and Markdown files."""

from __future__ import annotations

import re

from ._document import Block, ReadError, TextBuilder, clean
from .decoding import decode_bytes, normalise_newlines
from .layout import text_blocks

_MD_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPH_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_CODE_RE = re.compile(r"`([^`]+)`")


def _md_inline(text: str) -> str:
    """Strip the commonest inline Markdown so prose reads as prose."""
    text = _MD_IMAGE_RE.sub(r"\1", text)
    text = _MD_LINK_RE.sub(r"\1", text)
    text = _MD_EMPH_RE.sub(r"\2", text)
    return _MD_CODE_RE.sub(r"\1", text)



def parse_plain(data: bytes, *, markdown: bool) -> tuple[str, list[Block], str]:
    text, encoding = decode_bytes(data)
    text = normalise_newlines(clean(text))
    builder = TextBuilder()
    for kind, chunk in text_blocks(text):
        builder.add(_md_inline(chunk) if markdown else chunk, kind)
    if not builder.blocks:
        raise ReadError("empty", "file contains only whitespace" if not text.strip() else "file contains no text")
    return builder.text(), builder.blocks, encoding


# --------------------------------------------------------------------------
# HTML

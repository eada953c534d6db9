"""Word (.docx) documents: paragraphs, headings, list items and table cells."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

from ._document import Block, ReadError, TextBuilder, short

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_HEADING_STYLE_RE = re.compile(r"^(?:heading\s*\d|title|subtitle)$", re.IGNORECASE)


def _docx_text(el: Any) -> str:
    """Visible text of a paragraph element, including insertions and text boxes."""
    parts: list[str] = []
    stack = [el]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == _MC_FALLBACK:
            continue  # duplicate of the mc:Choice rendering
        if tag == _W + "t":
            parts.append(node.text or "")
        elif tag in (_W + "tab", _W + "br", _W + "cr"):
            parts.append(" ")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        if tag != _W + "t":
            stack.extend(reversed(list(node)))
    return "".join(parts)


def _docx_iter_body(container: Any) -> Iterator[Any]:
    """Paragraph and table elements in body order, looking inside content controls."""
    stack = list(reversed(list(container)))
    while stack:
        el = stack.pop()
        if el.tag in (_W + "p", _W + "tbl"):
            yield el
        elif el.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
            stack.extend(reversed(list(el)))


def parse_docx(data: bytes) -> tuple[str, list[Block]]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except zipfile.BadZipFile:
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            reason = "not a valid .docx: this is an old binary .doc file or a password-protected document"
        else:
            reason = "corrupt or unreadable Word document: not a valid .docx (zip) file"
        raise ReadError("error", reason) from None
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Word document: {short(exc)}") from None

    style_names: dict[str, str] = {}
    try:
        for style in document.styles:
            if style.style_id:
                style_names[style.style_id] = style.name or style.style_id
    except Exception as exc:  # a damaged styles part should not lose the text
        logger.debug("could not read docx styles: %s", exc)

    builder = TextBuilder()
    try:
        for el in _docx_iter_body(document.element.body):
            if el.tag == _W + "p":
                text = _docx_text(el)
                if text.strip():
                    builder.add(text, _docx_kind(el, style_names))
            else:
                # Direct rows only: nested tables are part of their cell's text.
                for tr in el.findall(_W + "tr"):
                    for tc in tr.findall(_W + "tc"):
                        # Nested tables' paragraphs are included in the cell's text.
                        cell = " ".join(_docx_text(p) for p in tc.iter(_W + "p"))
                        builder.add(cell, "table_cell")
    except Exception as exc:
        raise ReadError("error", f"corrupt or unreadable Word document: {short(exc)}") from None
    if not builder.blocks:
        raise ReadError("empty", "Word document has no text")
    return builder.text(), builder.blocks


def _docx_kind(p: Any, style_names: Mapping[str, str]) -> str:
    ppr = p.find(_W + "pPr")
    style_id = ""
    if ppr is not None:
        ps = ppr.find(_W + "pStyle")
        if ps is not None:
            style_id = ps.get(_W + "val") or ""
        outline = ppr.find(_W + "outlineLvl")
        level = outline.get(_W + "val", "9") if outline is not None else "9"
        if level.isdigit() and int(level) < 9:  # 9 means "body text"
            return "heading"
    name = style_names.get(style_id, style_id)
    if _HEADING_STYLE_RE.match(name) or _HEADING_STYLE_RE.match(style_id):
        return "heading"
    if ppr is not None:
        num = ppr.find(_W + "numPr")
        if num is not None:
            num_id = num.find(_W + "numId")
            if num_id is None or num_id.get(_W + "val") != "0":
                return "list_item"
    if "list" in name.lower():
        return "list_item"
    return "paragraph"



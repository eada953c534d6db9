"""Word (.docx) documents: paragraphs, headings, list items and table cells.

The package is read with ``zipfile`` and its XML streamed with lxml's
``iterparse`` under an :class:`~._zip.InflateBudget`, never inflated whole:
a small .docx whose ``document.xml`` inflates to hundreds of megabytes is
refused (or stopped) at the limit instead of filling memory.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

from ._document import Block, ReadError, TextBuilder, Warnings, unreadable_as
from ._zip import InflateBudget

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
            # Unexpanded entity references are child nodes of the run text;
            # the text after one is its tail and must not be lost with it.
            parts.extend(child.tail or "" for child in node)
        elif tag in (_W + "tab", _W + "br", _W + "cr"):
            parts.append(" ")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        if tag != _W + "t":
            stack.extend(reversed(list(node)))
    return "".join(parts)


_CONTAINERS = frozenset({_W + "sdt", _W + "sdtContent", _W + "customXml"})
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class _Entities:
    """Entities declared in the DTDs of the parts read, for one warning per file.

    Entities are never expanded or fetched; a part that declares them (an
    XXE attempt, or a tool that writes them) loses their references from the
    text, and the user should hear about it rather than find text missing.
    """

    def __init__(self) -> None:
        self.declared = 0
        self.external: list[str] = []

    def check(self, el: Any) -> None:
        dtd = el.getroottree().docinfo.internalDTD
        if dtd is None:
            return
        for entity in dtd.iterentities():
            self.declared += 1
            if entity.system_url:
                self.external.append(entity.system_url)

    def warning(self) -> str | None:
        """One line for ``files.csv``, or ``None`` when no part declared entities."""
        if not self.declared:
            return None
        what = f"{self.declared} XML entit{'y' if self.declared == 1 else 'ies'}"
        if self.external:
            url = self.external[0] if len(self.external[0]) <= 80 else self.external[0][:79] + "…"
            what += f" ({len(self.external)} external, e.g. '{url}')"
        return f"the Word document declares {what}; entities are never expanded or fetched, so their references were left out of the text"


def _iterparse(stream: IO[bytes], events: tuple[str, ...], entities: _Entities | None = None) -> Iterator[tuple[str, Any]]:
    from lxml import etree

    # No entity expansion and no network: a hostile part must not expand
    # entities (billion laughs) or fetch anything.
    first = entities is not None
    for event, el in etree.iterparse(stream, events=events, resolve_entities=False, no_network=True, remove_comments=True):
        if first:
            # The DTD is parsed before the first element, so it is known here.
            entities.check(el)  # type: ignore[union-attr]
            first = False
        yield event, el


def _docx_iter_body(stream: IO[bytes], entities: _Entities | None = None) -> Iterator[Any]:
    """Paragraph and table elements in body order, streamed from ``document.xml``.

    Looks inside content controls (``w:sdt``, ``w:customXml``). Each element
    is yielded once it is complete and freed after use, with everything
    before it, so memory holds one paragraph or table at a time however
    large the part is.
    """
    stack: list[str] = []
    for event, el in _iterparse(stream, ("start", "end"), entities):
        if event == "start":
            if not stack and el.tag != _W + "document":
                raise ReadError("error", "corrupt or unreadable Word document: its main part is not a Word document")
            stack.append(el.tag)
            continue
        stack.pop()
        if (
            el.tag in (_W + "p", _W + "tbl")
            and len(stack) >= 2
            and stack[1] == _W + "body"
            and all(tag in _CONTAINERS for tag in stack[2:])
        ):
            yield el
            el.clear()
            parent = el.getparent()
            while el.getprevious() is not None:
                del parent[0]


def _relationship(budget: InflateBudget, rels_part: str, kind: str, entities: _Entities | None = None) -> str | None:
    """Target of the first relationship of ``kind`` in a ``.rels`` part, as a member name."""
    try:
        budget.check_declared([rels_part])
        stream = budget.open(rels_part)
    except KeyError:
        return None
    base = rels_part.split("_rels/")[0]
    with stream:
        for _, el in _iterparse(stream, ("end",), entities):
            if el.tag == _REL_NS + "Relationship" and (el.get("Type") or "").endswith("/" + kind):
                target = el.get("Target") or ""
                if el.get("TargetMode") == "External" or not target:
                    return None
                # Targets are relative to the part's folder unless absolute.
                return posixpath.normpath(target.lstrip("/") if target.startswith("/") else base + target)
    return None


def _style_names(budget: InflateBudget, part: str | None, entities: _Entities | None = None) -> dict[str, str]:
    """Style id -> style name from ``styles.xml`` (empty when it is missing or damaged)."""
    names: dict[str, str] = {}
    if part is None:
        return names
    try:
        with budget.open(part) as stream:
            for _, el in _iterparse(stream, ("end",), entities):
                if el.tag == _W + "style":
                    style_id = el.get(_W + "styleId")
                    name_el = el.find(_W + "name")
                    if style_id:
                        names[style_id] = (name_el.get(_W + "val") if name_el is not None else None) or style_id
                    el.clear()
    except ReadError:
        raise
    except Exception as exc:  # a damaged styles part should not lose the text
        logger.debug("could not read docx styles: %s", exc)
    return names


def parse_docx(data: bytes, max_inflated_bytes: int, warnings: Warnings | None = None) -> tuple[str, list[Block]]:
    """Extract a Word document's blocks, streaming its XML under an inflation limit.

    Args:
        data: The .docx file's bytes.
        max_inflated_bytes: Most bytes all members may inflate to: the sizes
            every member declares are checked first, then the bytes of the
            parts read are counted.
        warnings: Told when a part declares XML entities (never expanded).

    Returns:
        ``(text, blocks)``.

    Raises:
        ReadError: ``skipped`` over the inflation limit; ``error`` when the
            file is not a readable .docx; ``empty`` when it has no text.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            reason = "not a valid .docx: this is an old binary .doc file or a password-protected document"
        else:
            reason = "corrupt or unreadable Word document: not a valid .docx (zip) file"
        raise ReadError("error", reason) from None
    builder = TextBuilder()
    entities = _Entities()
    with zf, unreadable_as("corrupt or unreadable Word document"):
        budget = InflateBudget(zf, max_inflated_bytes, "Word document")
        # Every member counts, not just the parts read here: a package is
        # refused as a whole, whatever its parts are called.
        budget.check_all()
        main = _relationship(budget, "_rels/.rels", "officeDocument", entities) or "word/document.xml"
        if main not in zf.namelist():
            raise ReadError("error", "corrupt or unreadable Word document: it has no main document part")
        folder, _, name = main.rpartition("/")
        prefix = f"{folder}/" if folder else ""
        styles = _relationship(budget, f"{prefix}_rels/{name}.rels", "styles", entities)
        if styles is None and f"{prefix}styles.xml" in zf.namelist():
            styles = f"{prefix}styles.xml"
        style_names = _style_names(budget, styles, entities)
        with budget.open(main) as stream:
            for el in _docx_iter_body(stream, entities):
                if el.tag == _W + "p":
                    text = _docx_text(el)
                    if text.strip():
                        builder.add(text, _docx_kind(el, style_names))
                    continue
                # Direct rows only: nested tables are part of their cell's text.
                for tr in el.findall(_W + "tr"):
                    for tc in tr.findall(_W + "tc"):
                        cell = " ".join(_docx_text(p) for p in tc.iter(_W + "p"))
                        builder.add(cell, "table_cell")
    note = entities.warning()
    if note and warnings is not None:
        warnings.add(note)
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



"""HTML pages: the main content, without navigation, scripts or hidden parts."""

from __future__ import annotations

import codecs
import re
from typing import Any

from ._document import Block, ReadError, TextBuilder, clean
from .decoding import decode_bytes

# --------------------------------------------------------------------------

_HTML_DROP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "nav",
        "header",
        "footer",
        "aside",
        "form",
        "svg",
        "template",
        "iframe",
        "object",
        "embed",
        "canvas",
        "button",
        "select",
        "textarea",
        "head",
        "title",
        "math",
        "audio",
        "video",
        "map",
    }
)
_HTML_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary"})
_HTML_BLOCK = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_HTML_KIND = {
    **{f"h{i}": "heading" for i in range(1, 7)},
    "li": "list_item",
    "blockquote": "quote",
    "td": "paragraph",
    "th": "paragraph",
    "dt": "paragraph",
    "dd": "paragraph",
}
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.IGNORECASE)
_BR = "\x00"  # placeholder for <br>; NUL never survives decoding/cleaning
_BR_BREAK_RE = re.compile(_BR + r"(?:\s*" + _BR + ")+")


def _html_declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET_RE.search(data[:4096])
    if not m:
        return None
    label = m.group(1).decode("ascii", "ignore").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # WHATWG: latin-1/ascii labels mean windows-1252; a UTF-16 label in a
    # byte stream without a BOM cannot be right, so it means UTF-8.
    if name in ("iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return name


def _html_hidden(node: Any) -> bool:
    attrs = node.attributes or {}
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    if (attrs.get("role") or "").lower() in _HTML_DROP_ROLES:
        return True
    style = (attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def parse_html(data: bytes) -> tuple[str, list[Block], str]:
    from selectolax.lexbor import LexborHTMLParser

    text, encoding = decode_bytes(data, declared=_html_declared_charset(data))
    tree = LexborHTMLParser(clean(text))
    roots: list[Any] = []
    main = tree.css_first("main")
    if main is not None:
        roots = [main]
    else:
        # Top-level <article>s only: nested ones are walked with their parent.
        for art in tree.css("article"):
            parent, nested = art.parent, False
            while parent is not None:
                if parent.tag == "article":
                    nested = True
                    break
                parent = parent.parent
            if not nested:
                roots.append(art)
    builder = TextBuilder()
    for root in roots:
        _html_walk(root, builder)
    if not builder.blocks:
        # <main>/<article> may be an empty shell filled by JavaScript.
        fallback = tree.body or tree.root
        if fallback is not None:
            _html_walk(fallback, builder)
    if not builder.blocks:
        raise ReadError("empty", "HTML page has no readable text outside navigation and scripts")
    return builder.text(), builder.blocks, encoding


def _html_walk(root: Any, builder: TextBuilder) -> None:
    """Walk the DOM iteratively (deep markup must not hit the recursion limit)."""
    buf: list[str] = []
    kinds: list[str] = []

    def flush() -> None:
        raw = "".join(buf)
        buf.clear()
        kind = kinds[-1] if kinds else "paragraph"
        # Two or more <br> in a row separate paragraphs; one is a line wrap.
        for part in _BR_BREAK_RE.split(raw):
            builder.add(part.replace(_BR, " "), kind)

    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]
    while stack:
        node, leaving, pushed_kind = stack.pop()
        if leaving:
            flush()
            if pushed_kind:
                kinds.pop()
            continue
        tag = node.tag
        if tag == "-text":
            buf.append(node.text_content or "")
            continue
        if tag.startswith("-") or tag in _HTML_DROP or _html_hidden(node):
            continue
        if tag == "br":
            buf.append(_BR)
            continue
        is_block = tag in _HTML_BLOCK
        kind = _HTML_KIND.get(tag)
        if is_block:
            flush()
            if kind:
                kinds.append(kind)
            stack.append((node, True, bool(kind)))
        children = list(node.iter(include_text=True))
        stack.extend((child, False, False) for child in reversed(children))
    flush()


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------

"""Text decoding: byte order marks, declared charsets, UTF-8, a guarded guess.

Plain text, Markdown, HTML and CSV files arrive as bytes in whatever encoding
their author's tool used; this module picks the encoding and says when the
bytes are not text at all.
"""

from __future__ import annotations

import codecs
import logging

from ._document import ReadError

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Encoding detection
# --------------------------------------------------------------------------

_CANONICAL_ENCODINGS = {
    "iso8859-1": "latin-1",
    "utf-16-le": "utf-16",
    "utf-16-be": "utf-16",
    "utf-32-le": "utf-32",
    "utf-32-be": "utf-32",
    "ascii": "utf-8",
}

# Latin-script guesses from charset-normalizer are unreliable on short text
# (cp1252 prose is often called cp1250 or mac_roman); we fall through to
# cp1252 for them instead of accepting mojibake like "Ł5" for "£5".
_NON_LATIN_ENCODINGS = frozenset(
    {
        "cp1251",
        "koi8_r",
        "koi8_u",
        "iso8859_5",
        "mac_cyrillic",
        "cp866",
        "cp855",
        "cp1253",
        "iso8859_7",
        "mac_greek",
        "cp1255",
        "iso8859_8",
        "cp1256",
        "iso8859_6",
        "shift_jis",
        "cp932",
        "euc_jp",
        "iso2022_jp",
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "big5hkscs",
        "cp950",
        "euc_kr",
        "cp949",
        "tis_620",
        "cp874",
        "iso8859_11",
    }
)


def _canonical(name: str) -> str:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return name
    return _CANONICAL_ENCODINGS.get(codec, codec)


_CONTROL_BYTES = bytes(list(range(0, 9)) + list(range(14, 32)) + [127])
_NON_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)


def control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    return len(sample.translate(None, _NON_CONTROL_BYTES)) / len(sample)


def _text_control_ratio(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\f\v") or 0x7F <= ord(c) <= 0x9F)
    return bad / len(sample)


BINARY_REASON = "looks like binary data, not text"


def bom_encoding(head: bytes) -> tuple[str, int] | None:
    """Encoding and BOM length when ``head`` starts with a byte order mark."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 3
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        return "utf-32", 0
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", 0
    return None


def utf16_without_bom(sample: bytes) -> str | None:
    """Python codec name when NUL bytes sit in alternate positions (BOM-less UTF-16)."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0), odd.count(0)
    if odd_nul > 0.3 * len(odd) and even_nul < 0.05 * len(even):
        return "utf-16-le"
    if even_nul > 0.3 * len(even) and odd_nul < 0.05 * len(odd):
        return "utf-16-be"
    return None


def guess_non_latin(data: bytes, truncated: bool = False) -> tuple[str, str] | None:
    """Ask charset-normalizer, accepting only a plausible non-Latin answer.

    ``truncated`` says ``data`` is the head of a longer file, so a multi-byte
    character cut at the end must not count against the guess.
    """
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - declared dependency
        return None
    try:
        best = from_bytes(data).best()
    except Exception as exc:  # detection is a heuristic; never let it crash a read
        logger.debug("charset detection failed: %s", exc)
        return None
    if best is None or best.encoding not in _NON_LATIN_ENCODINGS or best.chaos > 0.2:
        return None
    try:
        text = data.decode(best.encoding, errors="ignore" if truncated else "strict")
    except (UnicodeDecodeError, LookupError):
        return None
    letters = [c for c in text[:100_000] if c.isalpha()]
    # Sanity: a real Cyrillic/Greek/CJK text is mostly non-ASCII letters; an
    # English text with one "£" misread as Cyrillic is not.
    if not letters or sum(1 for c in letters if ord(c) > 127) < 0.3 * len(letters):
        return None
    return text, _canonical(best.encoding)


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode text bytes, returning ``(text, encoding)``.

    Order: BOM, declared charset (HTML), strict UTF-8, a sane
    charset-normalizer guess, cp1252, latin-1.

    Raises:
        ReadError: ``error`` when the bytes look binary.
    """
    bom = bom_encoding(data[:4])
    if bom:
        enc, skip = bom
        codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}[enc]
        text = data[skip:].decode(codec, errors="replace")
        if _text_control_ratio(text) > 0.05:
            raise ReadError("error", BINARY_REASON)
        return text, enc

    sample = data[:65536]
    if b"\x00" in sample:
        codec = utf16_without_bom(sample)
        if codec:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                text = None
            if text is not None and _text_control_ratio(text) <= 0.05:
                return text, "utf-16"
        # Real text never contains NUL bytes outside UTF-16/32.
        raise ReadError("error", BINARY_REASON)
    if control_ratio(sample) > 0.05:
        raise ReadError("error", BINARY_REASON)

    if declared:
        try:
            return data.decode(declared), _canonical(declared)
        except (UnicodeDecodeError, LookupError):
            logger.debug("declared charset %r does not decode; detecting instead", declared)

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = guess_non_latin(data)
    if guess:
        return guess
    try:
        text, enc = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, enc = data.decode("latin-1"), "latin-1"
    if _text_control_ratio(text) > 0.05:
        raise ReadError("error", BINARY_REASON)
    return text, enc


def normalise_newlines(text: str) -> str:
    # Form feeds separate pages in plain-text exports: treat as paragraph breaks.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


# --------------------------------------------------------------------------
# File discovery

"""Checks on the files of a model directory before any parser sees them.

A model directory may come from anyone. ``transformers`` will import Python
code that a directory names (``auto_map`` in ``config.json`` or
``tokenizer_config.json``) when asked to trust it, and it asks on standard
input when nobody said; it also parses multi-megabyte JSON files without a
limit. So every file that lo_signals or ``transformers`` will read from a model
directory is checked here first:

- each JSON file is read only up to a size cap (the cap is in the error) and
  parsed with recursion errors turned into a clear ``ValueError``;
- no JSON file may hold an ``auto_map`` (code named by the directory), at any depth;
- ``model_type`` must be one of the BERT-family encoders lo_signals knows, and
  ``tokenizer_class`` one of their tokenizers;
- the directory may not hold Python files at all, so that nothing a later
  version of ``transformers`` might look for is there to import.

The callers also pass ``trust_remote_code=False`` and ``local_files_only=True``
to every ``from_pretrained``, so the stdin question is never asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "UntrustedModelError",
    "MAX_BYTES",
    "ALLOWED_MODEL_TYPES",
    "read_json_capped",
    "check_encoder_dir",
    "HF_SAFE",
]


class UntrustedModelError(ValueError):
    """A model directory holds something lo_signals refuses to load (code, an unknown type, an oversized file)."""


#: Size caps in bytes for the files of a model directory, before parsing.
#: Generous for real encoders (MiniLM's tokenizer.json is 0.7 MB, XLM-R's 17 MB)
#: and far below what makes a JSON parser take gigabytes.
MAX_BYTES: dict[str, int] = {
    "meta.json": 4 * 2**20,
    "config.json": 1 * 2**20,
    "tokenizer_config.json": 1 * 2**20,
    "special_tokens_map.json": 1 * 2**20,
    "tokenizer.json": 32 * 2**20,
    "vocab.txt": 16 * 2**20,
    "vocab.json": 16 * 2**20,
    "merges.txt": 16 * 2**20,
    "sentencepiece.bpe.model": 16 * 2**20,
    "spm.model": 16 * 2**20,
}
#: Cap for any other JSON file found in the directory.
OTHER_JSON_BYTES = 1 * 2**20

#: Encoder architectures that the transformer backend can wrap (all built into ``transformers``).
ALLOWED_MODEL_TYPES = frozenset(
    {"bert", "roberta", "distilbert", "xlm-roberta", "mpnet", "deberta", "deberta-v2", "electra", "albert", "camembert", "modernbert"}
)
#: Tokenizer classes those encoders use (with and without the ``Fast`` suffix).
_ALLOWED_TOKENIZERS = frozenset(
    {
        "BertTokenizer",
        "RobertaTokenizer",
        "DistilBertTokenizer",
        "XLMRobertaTokenizer",
        "MPNetTokenizer",
        "DebertaTokenizer",
        "DebertaV2Tokenizer",
        "ElectraTokenizer",
        "AlbertTokenizer",
        "CamembertTokenizer",
        "PreTrainedTokenizer",
        "TokenizersBackend",
    }
)

#: Keyword arguments for every ``from_pretrained`` call on a local directory.
HF_SAFE: dict[str, Any] = {"trust_remote_code": False, "local_files_only": True}


def read_json_capped(path: str | Path, cap: int | None = None) -> Any:
    """Parse a JSON file no larger than ``cap`` bytes.

    Args:
        path: The file.
        cap: Largest size accepted; defaults to the file's entry in
            :data:`MAX_BYTES`, else 1 MiB.

    Returns:
        The parsed value.

    Raises:
        UntrustedModelError: If the file is over the cap, nested too deeply to
            parse, or not valid UTF-8 JSON.
    """
    path = Path(path)
    cap = cap if cap is not None else MAX_BYTES.get(path.name, OTHER_JSON_BYTES)
    size = path.stat().st_size
    if size > cap:
        raise UntrustedModelError(f"{path} is {size:,} bytes, over the {cap:,}-byte cap for {path.name}: refusing to parse it")
    with path.open("rb") as fh:
        raw = fh.read(cap + 1)
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise UntrustedModelError(f"{path} is nested too deeply to parse: refusing it") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UntrustedModelError(f"{path} is not valid JSON: {exc}") from None


def _has_key(value: Any, key: str) -> bool:
    """Whether ``key`` appears as a dict key anywhere in ``value`` (iterative, so no depth can overflow the stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _tokenizer_class_ok(name: Any) -> bool:
    if name is None:
        return True
    if not isinstance(name, str):
        return False
    return name.removesuffix("Fast") in _ALLOWED_TOKENIZERS


def check_encoder_dir(path: str | Path) -> dict[str, Any]:
    """Check an encoder directory (full model or a partial model's base) before ``transformers`` reads it.

    Args:
        path: The directory holding ``config.json`` and tokenizer files.

    Returns:
        The parsed ``config.json``.

    Raises:
        UntrustedModelError: If the directory names code (``auto_map``, a
            Python file), an encoder type or tokenizer class outside the
            allow-list, or holds a file over its size cap.
        FileNotFoundError: If it has no ``config.json``.
    """
    path = Path(path)
    config_file = path / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{path} has no config.json")
    code = sorted(p.name for p in path.iterdir() if p.suffix in (".py", ".pyc", ".so", ".pyd"))
    if code:
        raise UntrustedModelError(f"{path} holds program files ({', '.join(code[:5])}): lo_signals never loads a model directory with code in it")
    config: Any = None
    for item in sorted(path.iterdir()):
        if not item.is_file():
            continue
        cap = MAX_BYTES.get(item.name)
        if cap is not None and item.stat().st_size > cap:
            raise UntrustedModelError(f"{item} is {item.stat().st_size:,} bytes, over the {cap:,}-byte cap for {item.name}: refusing to load it")
        if item.suffix == ".json":
            data = read_json_capped(item)
            if item.name != "tokenizer.json" and _has_key(data, "auto_map"):
                raise UntrustedModelError(f"{item} names code to import (auto_map): lo_signals never runs code from a model directory")
            if item.name == "tokenizer_config.json" and isinstance(data, dict) and not _tokenizer_class_ok(data.get("tokenizer_class")):
                raise UntrustedModelError(f"{item}: tokenizer_class {data.get('tokenizer_class')!r} is not one lo_signals loads")
            if item.name == "config.json":
                config = data
    if not isinstance(config, dict):
        raise UntrustedModelError(f"{config_file} is not a JSON object")
    model_type = config.get("model_type")
    if model_type not in ALLOWED_MODEL_TYPES:
        raise UntrustedModelError(
            f"{config_file}: model_type {model_type!r} is not an encoder lo_signals loads (allowed: {', '.join(sorted(ALLOWED_MODEL_TYPES))})"
        )
    return config

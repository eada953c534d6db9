"""The README's Python snippet runs as written, and its commented outputs are what the code returns."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def python_snippet() -> str:
    """The fenced ```python block under the README's "## Python" heading."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "no ```python block under ## Python"
    return blocks[0]


def test_readme_python_snippet_runs_and_its_outputs_hold(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    # The snippet's paths (examples/data, corpora/test.jsonl) are relative to the repository root.
    monkeypatch.chdir(ROOT)
    code = python_snippet()
    namespace: dict = {}
    exec(compile(code, "README.md:## Python", "exec"), namespace)  # noqa: S102 - the project's own README
    scored = namespace["scored_df"]
    assert {"labels", "aspirations", "blame_defensiveness"} <= set(scored.columns)
    assert "blame_defensiveness" in scored.loc[0, "labels"].split(";")
    # Lines such as `model.predict(texts)   # [[...], ...]` promise a literal result: check each one.
    checked = 0
    for expr, comment in re.findall(r"^(model\.predict\w*\(texts\))\s+#\s+(\[.*\])\s*$", code, flags=re.M):
        assert eval(expr, namespace) == ast.literal_eval(comment), expr  # noqa: S307
        checked += 1
    assert checked == 2
    assert namespace["model"].predict_proba(namespace["texts"]).shape == (3, 5)


def test_snippet_defines_every_frame_it_uses():
    code = python_snippet()
    for name in ("survey_df", "scored_df"):
        assert re.search(rf"^{name}\s*=", code, flags=re.M), f"{name} is used but never defined"

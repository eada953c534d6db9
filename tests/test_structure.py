"""Package structure: no import cycles among the modelling modules, none of them oversized."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "lo_signals"
# The modules engineer-owned here; the check counts imports made anywhere in a
# module, including inside functions, since those form cycles just the same.
MODULES = ["models", "corpus", "evaluation", "labels", "train", "finetuning", "_hashing",
           "scorers.base", "scorers.lexicon", "scorers.linear", "scorers.transformer", "scorers._network", "scorers._safe_skops"]


def _imports(module: str) -> set[str]:
    path = PKG / (module.replace(".", "/") + ".py")
    package = module.rsplit(".", 1)[0] if "." in module else ""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            out |= {n for n in [target, *names] if n in MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lo_signals."):
            out.add(node.module.removeprefix("lo_signals."))
    return out & set(MODULES) - {module}


def test_no_import_cycles_among_the_modelling_modules():
    graph = {m: _imports(m) for m in MODULES}
    assert "evaluation" in graph["train"] and "corpus" in graph["evaluation"]  # the walk sees real edges

    def reach(start: str) -> set[str]:
        seen, stack = set(), list(graph[start])
        while stack:
            m = stack.pop()
            if m not in seen:
                seen.add(m)
                stack.extend(graph[m])
        return seen

    cycles = sorted(m for m in MODULES if m in reach(m))
    assert not cycles, {m: sorted(graph[m]) for m in cycles}


def test_modules_stay_under_600_lines():
    for module in MODULES:
        lines = len((PKG / (module.replace(".", "/") + ".py")).read_text().splitlines())
        assert lines <= 600, f"{module}: {lines} lines"

"""The import rule (docs/architecture.md): imports point down the pipeline, no circles.

Every ``import`` and ``from ... import`` in the package is read with :mod:`ast` (those inside
functions too: a lazy import is still a dependency).  A module may import its own layer and
the layers below it, never one above; and the module graph has no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "driftkit"

#: Bottom first.  A folder is one layer; ``audit``, ``batch``, ``cli`` are the runners on top.
LAYERS = (
    "errors",
    "progress",
    "folders",  # client ids and run folders: no pyarrow (the HTML audit's parent)
    "schema",
    "_toml",
    "_config_types",
    "config",
    "load",
    "drift",
    "causes",
    "impact",
    "plan",
    "simulate",
    "scale",
    "report",
    "handover",
    "audit",
    "explorer",
    "kernel",
    "notebook",
    "check",
    "runs",
    "client_audit",
    "batch",
    "cli",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> Iterator[str]:
    """Every driftkit module ``path`` imports: ``from driftkit.x import y`` counts ``x.y``
    when that is a module of ``modules``, else ``x``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("driftkit"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.startswith("driftkit"):
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    yield child if child in modules else base


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in imported(path, set(modules)) if m in modules and m != name}
        for name, path in modules.items()
    }


def layer(module: str) -> int | None:
    """The layer of ``driftkit.<layer>...``; None for the package itself (the public facade)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else None


def test_every_module_has_a_layer() -> None:
    unknown = {m for m in graph() if len(m.split(".")) > 1 and m.split(".")[1] not in LAYERS}
    assert not unknown, f"add these to LAYERS in their place in the pipeline: {sorted(unknown)}"


def test_imports_point_down_the_pipeline() -> None:
    upward = [
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if layer(source) is not None and layer(target) is not None and layer(target) > layer(source)  # type: ignore[operator]
    ]
    assert not upward, "\n".join(sorted(upward))


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``edges`` (as the modules on it), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    edges = {m: {t for t in ts if t != "driftkit"} for m, ts in graph().items() if m != "driftkit"}
    assert find_cycle(edges) is None, " → ".join(find_cycle(edges) or [])


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"a2"}, "a2": set(), "b": {"b"}}, ["b", "b"]),
    ],
    ids=["chain", "circle", "self"],
)
def test_find_cycle(edges: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(edges) == cycle


def test_the_rule_sees_an_upward_import() -> None:
    edges = graph()
    assert "driftkit.drift.align" in edges["driftkit.scale.plan"]  # imports are read
    assert layer("driftkit.scale.plan") > layer("driftkit.drift.align")  # type: ignore[operator]


def test_modules_are_at_most_300_lines() -> None:
    long = {
        module_name(p): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert not long, f"split these by concern (STYLE.md rule 1): {long}"

"""The package layout is the architecture: subpackages by domain, imports only downwards, no cycles.

Every ``import`` in ``docgen/`` is read with :mod:`ast` — at module level, inside functions and
under ``TYPE_CHECKING`` alike, since a reader meets all of them — and checked against the layers
of ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "docgen"
MAX_LINES = 800

# What each subpackage may import besides itself (docs/ARCHITECTURE.md says why).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "registry": frozenset({"core"}),
    "roster": frozenset({"core"}),
    "records": frozenset({"core", "registry", "roster"}),
    "letters": frozenset({"core", "registry", "roster", "records"}),
    "signing": frozenset({"core", "registry", "roster", "records"}),
    "verify": frozenset({"core", "registry", "roster", "records", "signing"}),
    "duties": frozenset({"core", "registry", "roster", "records"}),
    "demo": frozenset(
        {"core", "registry", "roster", "records", "letters", "signing", "verify", "duties"}
    ),
    "web": frozenset(
        {"core", "registry", "roster", "records", "letters", "signing", "verify", "duties", "demo"}
    ),
    "cli": frozenset(
        {
            "core",
            "registry",
            "roster",
            "records",
            "letters",
            "signing",
            "verify",
            "duties",
            "demo",
            "web",
        }
    ),
}
# The package's own two files: its version, and ``python -m docgen`` handing over to the CLI.
TOP_LEVEL = {"docgen": frozenset(), "docgen.__main__": frozenset({"cli"})}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> Iterator[tuple[int, str]]:
    """Each docgen module ``name`` imports, with the line: ``from a import b`` gives ``a.b``
    when that is a module, else ``a``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "docgen":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source.split(".")[0] != "docgen":
                continue
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                yield node.lineno, candidate if candidate in known else source


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else module


def import_graph() -> dict[str, dict[str, int]]:
    modules = all_modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        targets: dict[str, int] = {}
        for line, target in imported(name, path, known):
            if target != name:
                targets.setdefault(target, line)
        graph[name] = targets
    return graph


def test_the_walker_sees_the_package() -> None:
    graph = import_graph()
    assert len(graph) > 40
    assert "docgen.cli" in graph["docgen.__main__"]
    assert "docgen.core.errors" in graph["docgen.registry.store"]
    assert set(ALLOWED) <= {layer_of(m) for m in graph}


def test_every_module_belongs_to_a_layer() -> None:
    strays = [m for m in all_modules() if layer_of(m) not in ALLOWED and m not in TOP_LEVEL]
    assert strays == [], f"modules outside the subpackages of docs/ARCHITECTURE.md: {strays}"


def test_imports_only_go_down_the_layers() -> None:
    upward = []
    for module, targets in import_graph().items():
        mine = layer_of(module)
        allowed = TOP_LEVEL.get(module, ALLOWED.get(mine, frozenset()))
        for target, line in targets.items():
            theirs = layer_of(target)
            if target == "docgen" or theirs == mine or theirs in allowed:
                continue
            upward.append(f"{module}:{line} imports {target} ({mine} → {theirs})")
    assert upward == []


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle of ``graph`` (a path that returns to its start), or None."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in colour and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return None

    for start in sorted(graph):
        if start not in colour and (found := visit(start)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"b": 1}}) is None


def test_no_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.name))
def test_no_module_over_800_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)}: {lines} lines"

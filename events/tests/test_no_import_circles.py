"""Dependencies run one way: no module of the project imports another that
imports it back, directly or around a circle, counting the imports placed
inside functions (which only hide a circle from Python, not from a reader).
Tests, migrations and the benchmarks are left out."""

from __future__ import annotations

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
LEFT_OUT = {".git", ".venv", "node_modules", "migrations", "tests", "bench", "var", "static", "docs", "templates"}


def project_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if any(part in LEFT_OUT or part.startswith(".") for part in parts[:-1]):
            continue
        if path.name.startswith("test_") or path.name == "conftest.py":
            continue
        name = ".".join(parts)[: -len(".py")]
        modules[name.removesuffix(".__init__")] = path
    return modules


def imported_by(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_the_project_imports_another_that_imports_it_back():
    modules = project_modules(BASE_DIR)
    graph = {name: imported_by(name, path, modules) for name, path in modules.items()}
    assert "events.transport.hub" in graph and "orders.services" in graph  # the scan sees the project
    assert circles(graph) == []


def test_the_scan_finds_a_circle_hidden_inside_a_function(tmp_path):
    package = tmp_path / "kitchen"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "oven.py").write_text("from kitchen import timer\n")
    (package / "timer.py").write_text("def ring():\n    from kitchen.oven import bake\n")
    modules = project_modules(tmp_path)
    graph = {name: imported_by(name, path, modules) for name, path in modules.items()}
    assert circles(graph) == [["kitchen.oven", "kitchen.timer"]]

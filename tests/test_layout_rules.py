"""The layout's rules, checked on every run so that they stay true: small modules and functions, gradio only
in the page (`photomaker/ui/`), SQL only in the store (`photomaker/store/`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "photomaker"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
SQL_PACKAGES = ("sqlalchemy", "sqlmodel")
SESSION = "Session"
"""The one SQL name allowed outside the store: the type of the transaction the store's `Database` opens."""


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


@cache
def _modules() -> dict[str, ast.Module]:
    return {_name(path): ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def _outside(folder: str) -> dict[str, ast.Module]:
    return {name: tree for name, tree in _modules().items() if not name.startswith(f"photomaker/{folder}/")}


def _imports(tree: ast.Module) -> Iterator[tuple[str, str | None, int]]:
    """Each import as (module, name or None for the module itself, line), wherever it is in the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from ((node.module, alias.name, node.lineno) for alias in node.names)


def _from(module: str, packages: tuple[str, ...]) -> bool:
    return module.split(".")[0] in packages


def test_no_module_is_over_300_lines() -> None:
    lengths = {name: len((PACKAGE.parent / name).read_text(encoding="utf-8").splitlines()) for name in _modules()}
    assert {name: lines for name, lines in lengths.items() if lines > MAX_MODULE_LINES} == {}


def test_no_function_is_over_60_lines() -> None:
    long = {
        f"{name} {node.name}": node.end_lineno - node.lineno + 1
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert long == {}


def test_gradio_is_imported_only_under_ui() -> None:
    """The REST API, the engines and the rest run without it (`gradio_client`, a separate package, talks to
    Spaces from the engines)."""
    found = [
        f"{name}:{line} {module}"
        for name, tree in _outside("ui").items()
        for module, _, line in _imports(tree)
        if _from(module, ("gradio",))
    ]
    assert found == []


def test_sql_is_written_only_under_store() -> None:
    """Outside the store nothing builds a query or opens a transaction of its own: no `select`, `text(`, tables
    or engines from SQLAlchemy or SQLModel; at most `Session`, as the type of a transaction the store opened."""
    found = [
        f"{name}:{line} {module}.{imported or '*'}"
        for name, tree in _outside("store").items()
        for module, imported, line in _imports(tree)
        if _from(module, SQL_PACKAGES) and imported != SESSION
    ]
    opened = [
        f"{name}:{node.lineno}"
        for name, tree in _outside("store").items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == SESSION
    ]
    assert found == [] and opened == []

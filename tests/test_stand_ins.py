"""The stand-ins stay out of the product: nothing the package or deploy/ runs imports them or the tests, and the
package's build leaves them out."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOT_SHIPPED = ("stand_ins", "tests", "benchmarks")


def imported_roots(path: Path) -> set[str]:
    """The top-level packages a module imports, wherever in it (lazy imports included)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("folder", ["photomaker", "deploy", "seeds"])
def test_the_product_imports_no_stand_in(folder: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & set(NOT_SHIPPED))
        for path in (ROOT / folder).rglob("*.py")
    }

    assert {name: roots for name, roots in offenders.items() if roots} == {}


def test_the_build_ships_the_package_and_seeds_alone() -> None:
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]

    assert found["include"] == ["photomaker*", "seeds*"]

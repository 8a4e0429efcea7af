"""Guardrails that keep the package's shape: its lazy exports, and the suite's markers."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import registry_gen

PACKAGE = Path(registry_gen.__file__).parent
TESTS = Path(__file__).parent


def _type_checking_imports(tree: ast.Module) -> dict[str, str]:
    """``name -> module`` for the imports under ``if TYPE_CHECKING:`` in a module."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                module = (
                    "registry_gen." + (statement.module or "")
                    if statement.level == 1
                    else (statement.module or "")
                )
                found.update({alias.asname or alias.name: module for alias in statement.names})
    return found


def test_lazy_exports_all_and_type_checking_imports_agree() -> None:
    """The three lists of public names in __init__.py name the same objects."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    exports: dict[str, str] = registry_gen._EXPORTS
    assert sorted(registry_gen.__all__) == sorted(exports), "__all__ differs from _EXPORTS"
    assert _type_checking_imports(tree) == exports, "the TYPE_CHECKING imports differ"


@pytest.mark.parametrize("name", registry_gen.__all__)
def test_every_public_name_imports(name: str) -> None:
    exports: dict[str, str] = registry_gen._EXPORTS
    value = getattr(registry_gen, name)
    assert value is getattr(importlib.import_module(exports[name]), name)
    assert getattr(value, "__module__", "").startswith("registry_gen")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = registry_gen.nothing_here


def test_no_test_module_overwrites_its_markers() -> None:
    """A second ``pytestmark = ...`` silently drops the first (as it once dropped ``s3``)."""
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned = [
            node.lineno
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(
                isinstance(target, ast.Name) and target.id == "pytestmark"
                for target in node.targets
            )
        ]
        assert len(assigned) <= 1, f"{path.name} assigns pytestmark on lines {assigned}"

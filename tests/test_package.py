"""The package's promises: pure Array-API core, documented public names."""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import pkgutil

import pytest

import nnx

ROOT = pathlib.Path(nnx.__file__).parent
FORBIDDEN = {"numpy", "cupy", "cupyx"}


def _modules():
    names = [m.name for m in pkgutil.walk_packages([str(ROOT)], prefix="nnx.")]
    if "cupy" not in nnx.available():  # importing it needs CuPy; tested wherever a GPU is
        names.remove("nnx.backends.cupy_backend")
    return names


def test_core_never_imports_numpy_or_cupy():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "backends" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} imports {n}"
                for n in names
                if n.split(".")[0] in FORBIDDEN
            ]
    assert not offenders, offenders


@pytest.mark.parametrize("module_name", ["nnx", *_modules()])
def test_every_public_name_imports_and_has_a_docstring(module_name):
    module = importlib.import_module(module_name)
    assert module.__doc__, f"{module_name} has no module docstring"
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"


def test_version_is_exposed():
    assert nnx.__version__.count(".") == 2

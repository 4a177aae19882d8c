"""The layering contract (README, "Design"): imports point down the floors, never up, no cycle,
no reaching into another package's private names, and every 0.1 public name still imports.

Imports are read from the source with ``ast`` (also those inside functions and under
``TYPE_CHECKING``), so an upward import fails here even if it would never run.
"""

from __future__ import annotations

import ast
import importlib
import json
import pathlib
from collections import defaultdict

import pytest

import nnx

ROOT = pathlib.Path(nnx.__file__).parent
DATA = pathlib.Path(__file__).parent / "data"

#: lowest floor first; a module may import from its own floor (without a cycle) and below
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("nnx.registry", "nnx.validation")),
    ("arrays", ("nnx.backends",)),
    ("math", ("nnx.functional",)),
    (
        "blocks",
        (
            "nnx.activations",
            "nnx.initializers",
            "nnx.regularizers",
            "nnx.constraints",
            "nnx.schedules",
            "nnx.losses",
            "nnx.metrics",
            "nnx.layers",
            "nnx.ops",
            "nnx.optimizers",
            "nnx.data",
            "nnx.datasets",
            "nnx.preprocessing",
            "nnx.timeseries",
            "nnx.utils",
        ),
    ),
    ("saving", ("nnx.saving",)),
    ("callbacks", ("nnx.callbacks",)),
    ("training", ("nnx.training",)),
    ("distributed", ("nnx.distributed",)),
    ("models", ("nnx.models",)),
    (
        "tools",
        (
            "nnx.gradcheck",
            "nnx.lr_find",
            "nnx.diagnostics",
            "nnx.estimators",
            "nnx.plot",
            "nnx.environment",
            "nnx.benchmarks",
            "nnx.selfcheck",
            "nnx.cli",
            "nnx.__main__",
            "nnx",
        ),
    ),
]


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"))) for p in ROOT.rglob("*.py")
}
PACKAGES = {name for name, (path, _) in MODULES.items() if path.name == "__init__.py"}


def _floor(module: str) -> int:
    """Index of the floor holding ``module`` (longest matching prefix; ``nnx`` is the face)."""
    best, length = -1, -1
    for index, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            inside = prefix != "nnx" and module.startswith(prefix + ".")
            if (module == prefix or inside) and len(prefix) > length:
                best, length = index, len(prefix)
    return best


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> list[tuple[int, str]]:
    """``(line, imported nnx module)`` for every import in ``module``."""
    path, tree = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # NOTE: "from nnx.x import y" names module nnx.x.y when y is a submodule.
            targets = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                for a in node.names
            ]
        for target in targets:
            resolved = _resolve(target) if target.split(".")[0] == "nnx" else None
            if resolved and resolved != module:
                found.append((node.lineno, resolved))
    return found


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for _, target in _imports(module):
            # a package's face re-exporting its own modules is one room, not an arrow
            if not (target in PACKAGES and module.startswith(target + ".")):
                edges[module].add(target)
    return edges


def test_every_module_is_on_a_floor():
    assert [m for m in MODULES if _floor(m) < 0] == []


def test_imports_never_point_up_a_floor():
    upward = [
        f"{MODULES[m][0].relative_to(ROOT.parent)}:{line}: {m} ({FLOORS[_floor(m)][0]}) "
        f"imports {t} ({FLOORS[_floor(t)][0]})"
        for m in MODULES
        for line, t in _imports(m)
        if _floor(t) > _floor(m) >= 0 and not (t in PACKAGES and m.startswith(t + "."))
    ]
    assert upward == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in MODULES:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_import_graph_has_no_cycle():
    assert _cycles(_edges()) == []


def test_the_cycle_finder_finds_a_cycle():
    edges = _edges()
    some_module = "nnx.validation"
    edges["nnx.registry"].add(some_module)
    edges[some_module].add("nnx.registry")
    assert ["nnx.registry", "nnx.validation"] in _cycles(edges)


def _unit(module: str) -> str:
    """The package a private name belongs to: ``nnx.layers.conv`` -> ``nnx.layers``."""
    return ".".join(module.split(".")[:2])


def _private_definitions() -> dict[str, set[str]]:
    """Private name -> the packages (units) that define it (def, class, attribute, variable)."""
    defined: dict[str, set[str]] = defaultdict(set)
    for module, (_, tree) in MODULES.items():
        for node in ast.walk(tree):
            name = None
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = node.name
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                name = node.attr
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            elif isinstance(node, ast.arg):
                name = node.arg
            if name and name.startswith("_") and not name.startswith("__"):
                defined[name].add(_unit(module))
    return defined


def test_no_package_reaches_into_another_packages_private_names():
    defined = _private_definitions()
    offenders = []
    for module, (path, tree) in MODULES.items():
        unit, where = _unit(module), path.relative_to(ROOT.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnx"):
                offenders += [
                    f"{where}:{node.lineno}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                    and not a.name.startswith("__")
                    and _unit(node.module or "") != unit
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                and unit not in defined.get(node.attr, set())
            ):
                offenders.append(f"{where}:{node.lineno}: .{node.attr}")
    assert offenders == []


PUBLIC_0_1 = json.loads((DATA / "v0_1_public_names.json").read_text())


@pytest.mark.parametrize("module_name", sorted(PUBLIC_0_1))
def test_every_public_name_of_0_1_still_imports(module_name):
    module = importlib.import_module(module_name)
    missing = [n for n in PUBLIC_0_1[module_name] if not hasattr(module, n)]
    assert missing == []

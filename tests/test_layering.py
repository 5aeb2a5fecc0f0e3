"""The package's shape: layers point down, no import cycles, private APIs stay private.

The rule is in docs/architecture.md. Every ``import`` counts, also inside function
bodies; the facade ``zoo/__init__.py`` imports lazily by name and is the top.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "zoo"

# Lowest first. A module may import its own layer (without cycles) and the ones below.
LAYERS = [
    (
        "primitives",
        [
            "zoo._validation",
            "zoo._fs",
            "zoo._compat",
            "zoo._quiet",
            "zoo._json",
            "zoo._version",
            "zoo._processes",
            "zoo._archive",
            "zoo._catalogue_cache",
        ],
    ),
    (
        "building blocks",
        [
            "zoo.layers",
            "zoo.data",
            "zoo.distribute",
            "zoo.distribute_jax",
            "zoo.optimizers",
            "zoo._catalogue",
        ],
    ),
    ("architectures", ["zoo.architectures"]),
    ("catalogue", ["zoo.registry"]),
    ("persistence and policy", ["zoo.saving", "zoo.tasks", "zoo.plots"]),
    ("engine", ["zoo.engine"]),
    (
        "features",
        ["zoo.training", "zoo.transfer", "zoo.tuning", "zoo.exporting", "zoo.predicting"],
    ),
    ("front door", ["zoo.cli", "zoo.environment", "zoo"]),
]
PRIVATE_UPSTREAM = re.compile(
    r"\b(keras\.src|keras_tuner\.src|keras_hub\.src|tensorflow\.python)\b"
    r"|\._(inbound_nodes|keras_history|flatten_layers|gradient_registry|get_variable_index"
    r"|track_variable|build_at_init|is_hub_module_v1)\b"
    r"|_DefaultDistributionStrategy"
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _layer(module: str) -> int:
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS and the doc"
    return best[0]


def _imports(module: str) -> list[tuple[str, list[str], int]]:
    """(imported zoo module, names taken from it, line) for every import in `module`.

    A package that imports its modules by discovery (``pkgutil.iter_modules``, as
    ``zoo.architectures`` does) imports every one of them.
    """
    found = []
    text = MODULES[module].read_text()
    if MODULES[module].name == "__init__.py" and "pkgutil.iter_modules" in text:
        found += [
            (name, [], 0)
            for name in MODULES
            if name.rpartition(".")[0] == module and not name.rpartition(".")[2].startswith("_")
        ]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "zoo" or alias.name.startswith("zoo."):
                    found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "zoo" and not node.module.startswith("zoo."):
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in MODULES:  # `from zoo import saving` imports a module
                    found.append((sub, [], node.lineno))
                else:
                    found.append((node.module, [alias.name], node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    return {m: {target for target, _, _ in _imports(m) if target != m} for m in MODULES}


def test_layers_point_down():
    wrong = []
    for module in MODULES:
        for target, _, line in _imports(module):
            if target in MODULES and _layer(target) > _layer(module):
                wrong.append(
                    f"{module}:{line} imports {target} "
                    f"({LAYERS[_layer(module)][0]} -> {LAYERS[_layer(target)][0]})"
                )
    assert not wrong, "imports that point up:\n" + "\n".join(wrong)


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in MODULES:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def _package(module: str) -> str:
    """The package a module belongs to (zoo.transfer.fine_tuning -> zoo.transfer)."""
    if MODULES[module].name == "__init__.py":
        return module
    return module.rsplit(".", 1)[0]


def _private_module_owner(target: str) -> str | None:
    """The package a private module belongs to (None for zoo's primitive modules)."""
    parts = target.split(".")
    for index, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not part.startswith("__"):
            return None if index == 1 else ".".join(parts[:index])
    return None


def test_private_names_stay_in_their_package():
    wrong = []
    for module in MODULES:
        for target, names, line in _imports(module):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and _package(target) != _package(module):
                wrong.append(f"{module}:{line} imports {private} from {target}")
            owner = _private_module_owner(target)
            if owner is not None and not (module + ".").startswith(owner + "."):
                wrong.append(f"{module}:{line} imports {target}, private to {owner}")
    assert not wrong, "private names imported across packages:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_private_upstream_apis_only_in_compat(module):
    if module.startswith("zoo._compat"):
        return
    hits = [
        f"{module}:{number}: {line.strip()}"
        for number, line in enumerate(MODULES[module].read_text().splitlines(), start=1)
        if PRIVATE_UPSTREAM.search(line)
    ]
    assert not hits, "private upstream API outside zoo._compat:\n" + "\n".join(hits)


def test_every_module_is_in_a_layer_and_the_doc_names_each_layer():
    doc = (ROOT.parent / "docs" / "architecture.md").read_text()
    for module in MODULES:
        _layer(module)
    for name, prefixes in LAYERS:
        assert name in doc, f"docs/architecture.md does not describe the {name} layer"
        for prefix in prefixes:
            assert f"`{prefix}`" in doc, f"docs/architecture.md does not place {prefix}"

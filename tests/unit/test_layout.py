"""The layout holds: features in shared/ depend only on what sits below them, protocol packages never on a
feature, nothing in shared/ on a trigger, no import cycle between modules, and no module over 300 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 300

# Each package of shared/ may import only packages of a lower layer (and itself).
LAYERS: dict[str, int] = {
    **dict.fromkeys(("shared", "core"), 0),  # shared: the package itself, its version
    **dict.fromkeys(("auth", "hl7", "secrets", "storage"), 1),
    **dict.fromkeys(("smart", "health"), 2),
    "platform": 3,
    "setup": 4,
    "visits": 5,
    "messaging": 6,
    **dict.fromkeys(("scheduling", "reports"), 7),
    "writeback": 8,
    "runtime": 9,
}
PROTOCOLS = {"core", "auth", "hl7", "secrets", "storage", "smart"}
FEATURES = {"setup", "visits", "messaging", "scheduling", "reports", "writeback"}


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in ("shared", "functions"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of ours a file imports, anywhere in it (lazy imports included)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name if name in known else node.module for name in names]
        else:
            continue
        yield from (name for name in names if name in known)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(path, known)) - {name} for name, path in known.items()}


def package(module: str) -> str:
    return module.split(".")[1] if module.startswith("shared.") else module.split(".")[0]


def test_shared_packages_depend_only_on_lower_layers() -> None:
    wrong = []
    for module, targets in graph().items():
        if not module.startswith("shared."):
            continue
        for target in targets:
            if target.startswith("functions"):
                wrong.append(f"{module} imports the trigger {target}")
                continue
            source, dest = package(module), package(target)
            if source != dest and LAYERS[dest] >= LAYERS[source]:
                wrong.append(f"{module} ({source}) imports {target} ({dest})")
    assert wrong == [], "\n".join(sorted(wrong))


def test_every_package_of_shared_has_a_layer_and_protocols_import_no_feature() -> None:
    packages = {package(m) for m in modules() if m.startswith("shared.")}
    assert packages <= set(LAYERS), f"give these a layer: {packages - set(LAYERS)}"
    assert all(LAYERS[p] < min(LAYERS[f] for f in FEATURES) for p in PROTOCOLS)
    assert not (ROOT / "shared" / "services").exists()


def test_no_import_cycle_between_modules() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_module_of_the_app_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules().values()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}

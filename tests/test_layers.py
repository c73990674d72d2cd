"""The house's shape: no import circles, no stage importing a later one, and no module too big to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "recommender"
# The stages data flows through, in order; a module may import its own stage and earlier ones only.
STAGES = ("sources", "embed", "profile", "rank", "summary", "export")
LATER = {"export": ("digest", "latex")}  # modules of a stage that are not named after it
ON_TOP = ("run", "web", "mail", "notify", "cli", "feedback", "evaluate")
MAX_LINES = 700


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside `if TYPE_CHECKING:` blocks: those imports never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports() -> dict[str, set[str]]:
    """Each module's runtime imports of other recommender modules (function-level ones too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, node.module] if node.module else base) if node.level else node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    found.add(full if full in modules else target)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _stage(module: str) -> str:
    part = module.split(".")[1] if "." in module else ""
    for stage, others in LATER.items():
        if part in others:
            return stage
    return part


def test_no_import_circles():
    graph = _imports()
    graph = {m: {d for d in deps if d != "recommender"} for m, deps in graph.items()}  # the lazy public face
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                circles.append([*trail[trail.index(dep) :], dep] if dep in trail else [module, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_only_the_command_line_imports_the_package_face():
    importers = {m for m, deps in _imports().items() if "recommender" in deps and m != "recommender"}
    assert importers <= {"recommender.cli"}, importers


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_no_later_stage(stage):
    later = set(STAGES[STAGES.index(stage) + 1 :]) | set(ON_TOP)
    wrong = {
        (module, dep)
        for module, deps in _imports().items()
        if _stage(module) == stage
        for dep in deps
        if _stage(dep) in later
    }
    assert wrong == set()


def test_every_module_but_the_command_line_is_short_enough_to_read():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if p.name != "cli.py" and (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    }
    assert long == {}

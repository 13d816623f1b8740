"""The package's layout: data flows one way through its stages, read from the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gallery_builder"

# The stages in the order data flows through them, and the modules (or subpackages) of each.
STAGES = {
    "catalogue": {"errors", "tape", "functions", "optimizers", "schedules"},
    "sweep": {"engine", "model", "config", "criteria", "fingerprints", "sweep", "cache", "extras"},
    "results": {"results", "scorecard"},
    "figures": {"figures", "carried", "narrow", "thumbnails"},
    "embeds": {"embeds", "jsgen", "downloads"},
    "pages": {"pages"},
    "build": {"build", "site_build", "watch", "cli", "__init__", "__main__"},
}
STAGE_OF = {module: i for i, modules in enumerate(STAGES.values()) for module in modules}
RENDER = {*STAGES["results"], *STAGES["figures"], *STAGES["embeds"], *STAGES["pages"]}


def _top(path: Path) -> str:
    """The package's module or subpackage that a file belongs to: "sweep", "optimizers"."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imports(path: Path) -> set:
    """The package's modules and subpackages that a file imports, anywhere in it (a function's imports too)."""
    package = ["gallery_builder", *path.relative_to(PACKAGE).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            base += node.module.split(".") if node.module else []
            targets = [base + [alias.name] for alias in node.names]
        else:
            continue
        found |= {t[1] for t in targets if len(t) > 1 and t[0] == "gallery_builder" and t[1] in STAGE_OF}
    return found


def _modules() -> dict:
    return {path: _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_stage():
    assert {_top(path) for path in _modules()} <= set(STAGE_OF)


def test_no_module_imports_a_later_stage():
    backwards = [(path.relative_to(PACKAGE).as_posix(), used) for path, imported in _modules().items()
                 for used in sorted(imported) if STAGE_OF[used] > STAGE_OF[_top(path)]]
    assert backwards == []


def test_render_stages_read_the_model_not_the_sweep():
    """Results, figures, embeds and pages get cells through the data model: none imports the sweep or the cache."""
    readers = {path.relative_to(PACKAGE).as_posix(): used & {"sweep", "cache"}
               for path, used in _modules().items() if _top(path) in RENDER}
    assert {"figures.py", "results.py", "embeds.py", "pages.py"} <= set(readers)
    assert {path: used for path, used in readers.items() if used} == {}
    assert "model" in _imports(PACKAGE / "figures.py")


def test_imports_are_read_from_the_code():
    """The parser sees what the modules import: the sweep imports the model, the engine and the cache, the build
    imports the watcher inside a function, the optimizers' modules (``from ..errors``) the errors."""
    assert {"model", "engine", "cache"} <= _imports(PACKAGE / "sweep.py")
    assert "watch" in _imports(PACKAGE / "build.py")
    assert "errors" in set().union(*(_imports(p) for p in (PACKAGE / "optimizers").glob("*.py")))


LONGEST = 80  # lines of a function, its decorators included: longer ones are split


def test_no_function_is_longer_than_80_lines():
    """Every function and method of the package, counted from its first decorator to its last line (a catalogue
    entry's card is part of its definition)."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if node.end_lineno - first + 1 > LONGEST:
                    long.append(f"{path.relative_to(PACKAGE).as_posix()}:{first} {node.name}, "
                                f"{node.end_lineno - first + 1} lines")
    assert long == []

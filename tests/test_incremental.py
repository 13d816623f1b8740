"""An incremental build equals a clean build of the same tree, byte for byte, after each kind of everyday edit.

Each case copies a small project together with its own copy of the package (so that the edit can touch the code),
builds it, edits the tree, builds again over the previous gallery, then builds the edited tree from nothing in
another folder, and compares every file under ``docs/gallery/``. Each case is three builds in fresh processes (the
edited code must be the code that runs), hence slow; ``make test`` and CI run them.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, cli_env

CONFIG = """
[sweep]
optimizers = ["momentum", "adam"]
functions = ["booth", "himmelblau"]
steps = 40
basin_grid = 5
schedules = ["cosine"]

[sweep.learning_rates]
per_decade = 1
decades_below = 1
decades_above = 1
limit_below = 1
limit_above = 1

[noise]
seeds = 2

[site]
description = "A tiny gallery for the incremental-build tests."
"""

# (file relative to the project, text before, text after): one everyday edit each. NUMBERS: the edits that change
# what the sweep computes, after which the clean build starts from an empty cache too (a cell key that missed the
# edit would otherwise hide behind the incremental build's cells); the others share the cache, as their keys allow.
NUMBERS = {"update rule", "formula", "setting"}
EDITS = {
    "card title": ("gallery_builder/optimizers/sgd.py", 'title="Momentum",', 'title="Heavy-ball momentum",'),
    "summary": ("gallery_builder/optimizers/sgd.py", "Heavy-ball momentum: keep a running sum",
                "Heavy-ball momentum: keep a decaying sum"),
    "carried meaning": ("gallery_builder/optimizers/sgd.py", '"the momentum buffer: a running sum of past gradients',
                        '"the momentum buffer, a running sum of past gradients'),
    "look": ("gallery_builder/optimizers/sgd.py", 'look=Look("#C24643", "solid", "square")',
             'look=Look("#C24643", "longdash", "square")'),
    "shared view": ("gallery_builder/optimizers/views.py", 'return c.state[field] / (1 - c.hyper[beta] ** c.t)',
                    'return c.state[field] / (1.0 - c.hyper[beta] ** c.t) * 2'),
    "template": ("gallery_builder/templates/function.md.j2", "## Facts and definition\n",
                 "## Facts and definition\n\nAn edited line.\n"),
    "embed.js": ("gallery_builder/assets/embed.js", '  "use strict";\n', '  "use strict";\n  // An edited comment.\n'),
    "update rule": ("gallery_builder/optimizers/sgd.py", "state.momentum_buffer * momentum + grads",
                    "state.momentum_buffer * momentum + 0.5 * grads"),
    "formula": ("gallery_builder/functions.py", "np.square(2 * x + y - 5)", "np.square(2 * x + y - 5.5)"),
    "setting": ("gallery.toml", "steps = 40", "steps = 45"),
    "explanation": ("docs/explanations/optimizers/adam.md", "", "\nAn edited closing sentence.\n"),
}


def make_tree(path: Path) -> Path:
    """A project whose package is its own copy, so that an edit to the code changes only this project."""
    shutil.copytree(ROOT / "gallery_builder", path / "gallery_builder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", path / "docs", ignore=shutil.ignore_patterns("gallery"))
    (path / "gallery.toml").write_text(CONFIG)
    return path


def build(project: Path, cache: Path) -> None:
    env = {**cli_env(cache), "PYTHONPATH": str(project)}
    result = subprocess.run([sys.executable, "-m", "gallery_builder", "build", "--quiet", "--jobs", "1"],
                            cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


def edit(project: Path, name: str) -> None:
    relative, before, after = EDITS[name]
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert before in text, f"{relative} no longer holds {before!r}: update the edit"
    path.write_text(text.replace(before, after, 1) if before else text + after, encoding="utf-8")


def differing(a: Path, b: Path) -> list:
    """Files under ``a`` and ``b`` that are missing from one or differ in bytes, relative to them."""
    files = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    return sorted(f for f in files if not ((a / f).is_file() and (b / f).is_file()
                                          and filecmp.cmp(a / f, b / f, shallow=False)))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple:
    """The small project, built once (its cache is shared by the incremental builds, whose keys tell them apart)."""
    root = tmp_path_factory.mktemp("incremental")
    project = make_tree(root / "base")
    build(project, root / "cache")
    return project, root / "cache"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EDITS))
def test_an_incremental_build_equals_a_clean_build(built, tmp_path, name):
    base, cache = built
    incremental = tmp_path / "incremental"
    shutil.copytree(base, incremental, symlinks=True)
    edit(incremental, name)
    build(incremental, cache)
    clean = make_tree(tmp_path / "clean")
    edit(clean, name)
    build(clean, tmp_path / "clean-cache" if name in NUMBERS else cache)
    differ = differing(incremental / "docs" / "gallery", clean / "docs" / "gallery")
    assert not differ, f"{len(differ)} files differ after the {name} edit: {differ[:20]}"

"""Shared fixtures: a small gallery project built into a temporary folder, the way a user builds one; an optimizer
driven through its own init/update without the engine."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# A few optimizers and functions, including runs that diverge (SGD at large rates on Rosenbrock) and a saddle.
SMALL_CONFIG = """
[sweep]
optimizers = ["sgd", "momentum", "adam", "newton"]
functions = ["rosenbrock", "himmelblau", "saddle"]
steps = 80
basin_grid = 9

[sweep.learning_rates]
per_decade = 1
decades_below = 1
decades_above = 3
limit_below = 1
limit_above = 3

[site]
description = "A small gallery for the tests."
"""


def make_project(path: Path, config: str = SMALL_CONFIG) -> Path:
    """A copy of the project's MkDocs sources (without generated files) and a config, in ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", path / "docs", ignore=shutil.ignore_patterns("gallery"), dirs_exist_ok=True)
    (path / "gallery.toml").write_text(config)
    return path


def cli_env(cache: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    if cache is not None:
        env["GALLERY_CACHE"] = str(cache)
    return env


def run_cli(*args, cwd: Path, cache: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gallery_builder", *map(str, args)], cwd=cwd, env=cli_env(cache),
                          capture_output=True, text=True, timeout=timeout)


def main_cli(*args, cwd: Path, cache: Path | None = None) -> subprocess.CompletedProcess:
    """``gallery-builder ARGS`` as ``run_cli`` runs it, but in this process through ``cli.main``: the same exit
    status and output, without a second of interpreter start-up per call."""
    from gallery_builder import cli

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("GALLERY_CACHE")
    if cache is not None:
        os.environ["GALLERY_CACHE"] = str(cache)
    try:
        with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main([str(a) for a in args])
    finally:
        if saved is None:
            os.environ.pop("GALLERY_CACHE", None)
        else:
            os.environ["GALLERY_CACHE"] = saved
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def drive(opt, fn, starts, steps: int, hyper: dict):
    """Advance ``starts`` (B, 2) for ``steps`` steps by the optimizer's own ``init``/``update``, with nothing stopped:
    the points (steps + 1, B, 2) and the final state."""
    transform = opt.transform(**hyper)
    position = np.array(starts, dtype=float).reshape(-1, 2)
    state = transform.init(position)
    points = [position]
    with np.errstate(all="ignore"):  # runs that diverge carry NaN along, as they would alone
        for _ in range(steps):
            extra = {"value": fn.values(position)}  # as the engine passes it (Polyak's step reads it)
            if opt.uses_hessian:
                grads, extra["hessian"] = fn.hessian(position)
            else:
                grads = fn.gradient(position)
            updates, state = transform.update(grads, state, position, **extra)
            position = position + updates
            points.append(position)
    return np.stack(points), state


@pytest.fixture(name="drive")
def drive_fixture():
    return drive


@pytest.fixture(scope="session")
def small_site(tmp_path_factory) -> Path:
    """The small project, built with ``gallery-builder build --site``: returns the project folder."""
    project = make_project(tmp_path_factory.mktemp("small") / "project")
    result = run_cli("build", "--site", "--quiet", "--jobs", "2", cwd=project, cache=project / ".cache")
    assert result.returncode == 0, result.stderr
    assert (project / "site" / "index.html").is_file()
    return project


@pytest.fixture(scope="session")
def default_site(tmp_path_factory) -> Path:
    """The default gallery (every optimizer on every function), built with ``gallery-builder build --site`` once per
    run, also under pytest-xdist: the first worker that asks builds it (on every core) while the others wait, and
    all read it. Returns the project folder; its tests only read it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    root = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    project, done = root / "default" / "default", root / "default" / "built"
    with open(root / "default.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(project.parent, ignore_errors=True)
            make_project(project, config="")
            result = run_cli("build", "--site", "--quiet", "--jobs", "2", cwd=project, cache=project / ".cache",
                             timeout=1200)
            assert result.returncode == 0, result.stderr
            done.touch()
    return project


# Markers: `pytest -m "not slow"` is the fast subset (seconds); `make test` runs everything.
_SLOW_FIXTURES = {"small_site", "default_site", "server", "browser", "visit"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in {"test_browser.py", "test_serve.py"}:
            item.add_marker(pytest.mark.browser)
        if item.path.name in {"test_browser.py", "test_serve.py"} or _SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
    # Under pytest-xdist's worksteal, each worker is first sent an equal contiguous share of this list, and a worker
    # that runs out takes the second half of what another has left. So the list is dealt into one share per worker,
    # each with the default gallery's tests first (one worker builds it on every core while the others wait), then
    # the other slow tests, then the fast ones: what is taken from a busy worker is fast, and none is left alone with
    # a long test at the end.
    ordered = sorted(items, key=lambda item: 0 if "default_site" in item.fixturenames else
                     1 if item.get_closest_marker("slow") else 2)
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    items[:] = [item for share in range(workers) for item in ordered[share::workers]]

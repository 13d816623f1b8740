"""The results stage and `gallery-builder results`, through the command line on a small sweep."""

from __future__ import annotations

import inspect
import json
import re

import numpy as np
import pytest

from conftest import ROOT, main_cli, run_cli
from gallery_builder import (carried, config, criteria, embeds, engine, extras, figures, functions, pages, results,
                             sweep, thumbnails)
from gallery_builder.errors import UserError
from gallery_builder.engine import STATUSES

DOCS = ROOT / "docs"
CONFIG = """
[sweep]
optimizers = ["sgd", "newton"]
functions = ["himmelblau", "monkey_saddle", "rosenbrock"]
steps = 80
basin_grid = 3

[sweep.learning_rates]
per_decade = 1
decades_below = 2
decades_above = 3
limit_below = 2
limit_above = 3
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("results")
    (path / "gallery.toml").write_text(CONFIG)
    return path


def cli(project, *args):
    return run_cli("results", "--quiet", "--jobs", "1", *args, cwd=project, cache=project / ".cache")


@pytest.fixture(scope="module")
def entries(project):
    result = cli(project, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cells(project, entries):
    """The cells the command read, loaded from the cache it filled (nothing is recomputed)."""
    report = sweep.run_sweep(config.load(project / "gallery.toml"), jobs=1, cache_dir=project / ".cache",
                             quiet=True)
    assert report.computed == 0
    return report.cells


def test_one_entry_per_pair_with_every_field(entries):
    settings = config.parse(__import__("tomllib").loads(CONFIG))
    assert [(e["optimizer"], e["function"]) for e in entries] == [
        (o, f) for o in settings.optimizers for f in settings.functions]
    for e in entries:
        fn = functions.get(e["function"])
        assert {"optimizer", "function", "minimum", "lrs", "best_lr", "outcome", "final_gap", "steps_to_tolerance",
                "criterion", "badges"} <= set(e)
        assert e["minimum"] == fn.minimum
        assert len(e["lrs"]) == 6 and e["lrs"] == sorted(e["lrs"])
        assert e["best_lr"] is None or e["best_lr"] in e["lrs"]
        assert e["outcome"] in STATUSES
        assert (e["final_gap"] is None) == (fn.minimum is None)
        assert e["criterion"] == criteria.CRITERION["bounded" if fn.minimum is not None else "unbounded"]


def test_entries_match_the_cached_runs(entries, cells):
    for e in entries:
        cell = cells[(e["optimizer"], e["function"])]
        i = cell.chosen
        assert e["best_lr"] == (float(cell.lrs[cell.best]) if cell.best >= 0 else None)
        assert e["outcome"] == STATUSES[int(cell.runs.status[i])]
        if e["final_gap"] is not None:
            assert e["final_gap"] == float(cell.runs.gap[i])
        reached = int(cell.runs.steps_to_tolerance[i])
        assert e["steps_to_tolerance"] == (reached if reached >= 0 else None)


def test_newton_converges_on_rosenbrock(entries):
    entry = next(e for e in entries if (e["optimizer"], e["function"]) == ("newton", "rosenbrock"))
    assert entry["outcome"] == "converged" and entry["final_gap"] <= 1e-6 and entry["steps_to_tolerance"] > 0


def test_plain_text_is_an_aligned_table(project, entries):
    result = cli(project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    table = lines[: len(entries) + 1]
    assert table[0].split()[:2] == ["optimizer", "function"]
    # Right-aligned numbers: every row of the table ends its "best lr" column at the same place.
    end = table[0].index("best lr") + len("best lr")
    for line, e in zip(table[1:], entries):
        assert line.startswith(e["optimizer"]) and e["function"] in line
        assert line[:end].rstrip().endswith(results.num(e["best_lr"]))
        assert re.search(rf"\b{e['outcome']}\b", line)
    assert any(line.startswith("best lr: ") for line in lines[len(entries) + 1:])


def test_a_bad_config_is_one_line_and_status_2(tmp_path):
    (tmp_path / "gallery.toml").write_text("[sweep]\nsteps = 0\n")
    result = main_cli("results", cwd=tmp_path, cache=tmp_path / ".cache")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "steps" in result.stderr


def test_newtons_climb_on_himmelblau_is_said_as_what_it_is(cells):
    cell = cells[("newton", "himmelblau")]
    facts = results.pair_facts(cell, functions.get("himmelblau"), 1e-6)
    assert "stationary point that is not a minimum" in facts and "higher than where it started" in facts


def test_saddle_leaderboard_ranks_by_the_escape_step(cells):
    fn = functions.get("monkey_saddle")
    board = results.leaderboard([cells[("sgd", "monkey_saddle")], cells[("newton", "monkey_saddle")]], fn)
    steps = [row["left_at"] for row in board]
    assert steps[0] is not None  # SGD slides down a valley; Newton never escapes downhill
    assert board[0]["optimizer"].name == "sgd"


def test_verdict_says_one_step_not_one_steps():
    class Runs:  # the three arrays a verdict reads
        status = np.array([0])
        steps_to_tolerance = np.array([1])
        gap = np.array([0.0])

    class Cell:
        best, runs = 0, Runs

    assert results.verdict(Cell, functions.get("booth"))[0] == "✓ 1 step"


def test_the_sweep_chooses_by_the_criterion(cells):
    for (_, fn_name), cell in cells.items():
        assert cell.best == criteria.choose_best(cell.runs, functions.get(fn_name), 1e-6)


def test_a_best_learning_rate_at_the_search_limit_is_said_to_be_there():
    # SGD escapes the saddle sooner the larger its rate, so with the search limited to a decade above the default
    # the best rate is the largest searched; on Booth, within the default limits, it is bracketed.
    narrow = config.Settings(optimizers=("sgd",), functions=("saddle",), lr_per_decade=1, lr_decades_below=1,
                             lr_decades_above=1, lr_limit_below=1, lr_limit_above=1, basin_grid=2)
    cell = sweep.compute_cell("sgd", "saddle", narrow)
    fn = functions.get("saddle")
    assert cell.best == len(cell.lrs) - 1
    edge = "at the edge of the search (limit 1 decade above the default)"
    assert results.search_edge(cell) == edge
    assert f"At the best learning rate, lr = {results.num(cell.lrs[-1])}, {edge}, SGD" in \
        results.pair_facts(cell, fn, 1e-6)
    assert results.leaderboard([cell], fn)[0]["edge"] == edge
    booth = sweep.compute_cell("sgd", "booth", config.Settings(basin_grid=2))
    assert 0 < booth.best < len(booth.lrs) - 1 and results.search_edge(booth) == ""
    assert "edge of the search" not in results.pair_facts(booth, functions.get("booth"), 1e-6)


def test_measures_computed_together_equal_each_run_alone():
    requests = [("adam", "rosenbrock", 0.1, 300, {}), ("momentum", "rosenbrock", 1e-3, 300, {"momentum": 0.5}),
                ("lbfgs", "rosenbrock", 1.0, 300, {}), ("newton", "rosenbrock", 1.0, 300, {}),
                ("sgd", "saddle", 0.1, 120, {}), ("polyak_sgd", "mccormick", 3.16, 300, {})]
    found = extras.measure_many([extras.request_key(*r) for r in requests])
    for optimizer, function, lr, steps, hyper in requests:
        got = found[extras.request_key(optimizer, function, lr, steps, hyper)]
        run = engine.trajectory(optimizer, function, steps=steps, lr=lr, **hyper)
        last = int(np.flatnonzero(np.isfinite(run.values))[-1])
        assert (got.status, got.stop_step, got.steps_to_tolerance) == (run.status, run.stop_step,
                                                                      run.steps_to_tolerance)
        assert got.final_value == run.values[last]
    with pytest.raises(UserError):
        extras.request_key("adam", "nope", 0.1, 300, {})


def test_a_measured_run_the_sweep_made_is_read_from_its_cell(monkeypatch):
    settings = config.Settings(lr_per_decade=1, lr_decades_below=1, lr_decades_above=1, lr_limit_below=1,
                               lr_limit_above=1, basin_grid=2, schedules=(), noise_seeds=0)
    cells = {(o, "rosenbrock"): sweep.compute_cell(o, "rosenbrock", settings) for o in ("adam", "polyak_sgd")}
    steps = settings.steps_for("rosenbrock")
    swept = [extras.request_key(o, "rosenbrock", float(lr), steps, {}) for (o, _), c in cells.items() for lr in c.lrs]
    other = [extras.request_key(*r) for r in (("adam", "rosenbrock", 0.1, steps, {"beta1": 0.8}),
                                              ("adam", "rosenbrock", 0.1, steps - 1, {}),
                                              ("adam", "rosenbrock", 0.05, steps, {}))]  # not a row of a cell
    alone = extras.measure_many(swept + other)
    ran, run_many = [], engine.run_many
    monkeypatch.setattr(engine, "run_many", lambda fn, members, steps: ran.append(len(members)) or
                        run_many(fn, members, steps))
    assert extras.measure_many(swept + other, cells) == alone
    assert ran == [2, 1]


def test_the_render_stage_runs_nothing_and_the_extras_come_from_the_cache(tmp_path, monkeypatch):
    """The explanations' runs and the noise families are the sweep's, cached like cells: with them computed, the
    pages render while every entry point of the engine raises, and a second build reads them from the cache."""
    settings = config.Settings(optimizers=("sgd", "adam"), functions=("saddle", "booth"), steps=60, basin_grid=2,
                               lr_per_decade=1, lr_limit_below=1, lr_limit_above=1, lr_decades_below=1,
                               lr_decades_above=1, schedules=(), noise_seeds=2)
    cells = sweep.run_sweep(settings, jobs=1, cache_dir=tmp_path, quiet=True).cells
    found = extras.run_extras(settings, cells, DOCS, tmp_path)
    assert found.measured and set(found.families) == {"saddle", "booth"} and found.families["saddle"] is None

    def refuse(*args, **kwargs):
        raise AssertionError("the render stage ran the engine")

    for name in ("run_many", "run_batch", "trajectory"):
        monkeypatch.setattr(engine, name, refuse)
    again = extras.run_extras(settings, cells, DOCS, tmp_path)
    assert again.measured == found.measured and again.families == found.families
    out = pages.Renderer(settings, cells, pages.Site(False), DOCS, again).pages()
    assert "SGD leaves at step" in out["gallery/functions/saddle.md"]
    assert "only the jitter differs" in out["gallery/functions/booth.md"]


def test_no_module_after_the_sweep_calls_the_engine():
    """Results, figures, embeds and pages read cells and extras only (the dynamic check is the test above)."""
    for module in (results, figures, carried, thumbnails, embeds, pages):
        source = inspect.getsource(module)
        for call in ("run_many(", "run_batch(", "trajectory(", "Member(", "compute_many(", "run_extras("):
            assert call not in source, (module.__name__, call)

"""The batched engine, run summaries, the trajectory() API and the cached sweep."""

import dataclasses
import pickle
import sys

import numpy as np
import pytest

from gallery_builder import Trajectory, criteria, engine, fingerprints, functions, optimizers, sweep, trajectory
from gallery_builder.config import Settings
from gallery_builder.engine import CONVERGED, DIVERGED, ESCAPED, MOVING, STALLED, STATUSES, Runs, run_batch
from gallery_builder.errors import UserError

FIELDS = engine.ARRAYS


def summarize(fn, points, values, grad_norms, stop_step, stopped_as, tolerance=engine.TOLERANCE):
    """Summaries of runs given as full (B, S+1) arrays, NaN after a stop: the engine's, recomputed after the fact."""
    batch, rows = values.shape
    finite_rows = np.isfinite(values)
    last = np.where(finite_rows.any(axis=1), rows - 1 - np.argmax(finite_rows[:, ::-1], axis=1), 0)
    pick = np.arange(batch)
    if fn.minimum is None:
        steps_to_tolerance = np.full(batch, -1)
    else:
        hits = finite_rows & (np.abs(values - fn.minimum) <= tolerance)
        steps_to_tolerance = np.where(hits.any(axis=1), np.argmax(hits, axis=1), -1)
    ends = engine._Ends(points[pick, last], values[pick, last], grad_norms[pick, last], last, steps_to_tolerance,
                        stop_step, stopped_as)
    return engine._summary(fn, (points, values, grad_norms), ends, tolerance)


def assert_runs_equal(a: Runs, b: Runs, rows=None):
    """Every array of two Runs identical bit for bit (NaN where NaN), optionally b against rows of a."""
    for name in FIELDS:
        left = getattr(a, name) if rows is None else getattr(a, name)[rows]
        right = getattr(b, name)
        assert left.shape == right.shape, name
        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), name


def one_by_one(opt, fn, starts, steps, hyper_rows):
    """The same runs done separately: a batch of one per start, scalar hyperparameters."""
    parts = [run_batch(opt, fn, [start], steps, hyper) for start, hyper in zip(starts, hyper_rows)]
    return Runs(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in FIELDS})


def scaled_defaults(name):
    opt = optimizers.get(name)
    hyper = opt.defaults
    hyper["lr"] = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "newton": 1.0}.get(name, hyper["lr"] * 10)
    return hyper


# --- Batched == one by one ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("opt_name", ["sgd", "nesterov", "adagrad", "rmsprop", "adam", "nadam", "radam", "lion",
                                      "adabelief", "newton"])
@pytest.mark.parametrize("fn_name", ["rosenbrock", "ackley", "goldstein_price", "saddle"])
def test_start_grid_batch_equals_single_runs(opt_name, fn_name):
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    (x0, x1), (y0, y1) = fn.domain
    xs, ys = np.linspace(x0, x1, 4), np.linspace(y0, y1, 3)
    starts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    hyper = scaled_defaults(opt_name)
    batch = run_batch(opt, fn, starts, 30, hyper)
    assert batch.points.shape == (12, 31, 2)
    assert_runs_equal(batch, one_by_one(opt, fn, starts, 30, [hyper] * len(starts)))


@pytest.mark.parametrize("opt_name", ["sgd", "momentum", "adam", "adamw", "amsgrad", "adamax", "adadelta", "newton"])
@pytest.mark.parametrize("fn_name", ["rosenbrock", "beale", "himmelblau"])
def test_learning_rate_batch_equals_single_runs(opt_name, fn_name):
    """As the sweep runs it: one start repeated, a (B,) array of learning rates (some of which blow up)."""
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    hyper = opt.defaults
    lrs = hyper["lr"] * 10.0 ** np.linspace(-2, 3, 11)
    starts = np.repeat([fn.start], len(lrs), axis=0)
    batch = run_batch(opt, fn, starts, 60, {**hyper, "lr": lrs})
    single = one_by_one(opt, fn, starts, 60, [{**hyper, "lr": float(lr)} for lr in lrs])
    assert_runs_equal(batch, single)
    if opt_name in ("sgd", "momentum"):
        assert (batch.status >= DIVERGED).any()  # the batch mixes stopped and live runs


def test_mixed_batch_with_a_run_that_diverges_at_the_start():
    opt, fn = optimizers.get("sgd"), functions.get("rosenbrock")
    runs = run_batch(opt, fn, [(np.nan, 0.0), (-1.2, 1.0)], 3, {"lr": 1e-3})
    assert runs.status[0] == DIVERGED and runs.stop_step[0] == 0
    assert np.isnan(runs.values[0]).all() and np.isnan(runs.points[0, 1:]).all()
    assert_runs_equal(runs, run_batch(opt, fn, [(-1.2, 1.0)], 3, {"lr": 1e-3}), rows=slice(1, 2))


def test_a_member_may_leave_out_the_gradient_norms():
    opt, fn = optimizers.get("momentum"), functions.get("beale")
    starts = np.array([fn.start, (1.0, 1.0), (4.0, 4.0), (-3.0, 2.5)])
    hyper = {**opt.hyperparameters(), "lr": np.array([1e-4, 1e-3, 1e-2, 1e-1])}
    full, lean = engine.run_many(fn, [engine.Member(opt, starts, hyper),
                                      engine.Member(opt, starts, hyper, grad_norms=False)], 60)
    assert lean.grad_norms.shape == (4, 0) and full.grad_norms.shape == (4, 61)
    for name in engine.ARRAYS:
        if name != "grad_norms":
            np.testing.assert_array_equal(getattr(lean, name), getattr(full, name), err_msg=name)
    alone = engine.run_many(fn, [engine.Member(opt, starts, hyper, grad_norms=False)], 60)[0]
    assert_runs_equal(alone, lean)
    # what is kept is |∇f| at every recorded point, NaN after a stop
    recorded = np.isfinite(full.values)
    assert not recorded.all() and recorded[:, 0].all()
    norms = np.hypot(*fn.gradient(full.points[recorded]).T)
    np.testing.assert_array_equal(full.grad_norms[recorded], norms)
    assert np.isnan(full.grad_norms[~recorded]).all()


# --- Divergence and escapes are recorded, not raised -------------------------------------------------------------


def test_huge_lr_on_rosenbrock_stops_and_is_recorded():
    opt, fn = optimizers.get("sgd"), functions.get("rosenbrock")
    runs = run_batch(opt, fn, [fn.start], 50, {"lr": 0.1})
    status, stop, last = runs.status[0], runs.stop_step[0], runs.last[0]
    assert status in (ESCAPED, DIVERGED)
    assert 1 <= stop <= 50
    # an escaped run keeps the row where it left the box; a diverged run's first non-finite row is the stop step
    assert last == (stop if status == ESCAPED else stop - 1)
    assert np.isfinite(runs.points[0, : last + 1]).all() and np.isfinite(runs.values[0, : last + 1]).all()
    assert np.isnan(runs.points[0, last + 1:]).all() and np.isnan(runs.values[0, last + 1:]).all()
    np.testing.assert_array_equal(runs.final_point[0], runs.points[0, last])
    assert runs.final_value[0] == runs.values[0, last]
    if status == ESCAPED:
        assert not fn.contains(runs.points[0, stop], fn.escape_factor)


@pytest.mark.parametrize("fn_name, lr, expected_stop", [
    ("goldstein_price", 0.01, 3),
    ("beale", 0.1, 4),
    ("rosenbrock", 0.01, 6),
])
def test_non_finite_divergence(fn_name, lr, expected_stop):
    """Without the escape box (factor ∞), plain SGD with a large lr overflows: DIVERGED at the first NaN/inf row."""
    opt, fn = optimizers.get("sgd"), functions.get(fn_name)
    with np.errstate(all="raise"):  # nothing may leak a floating-point warning or error out of the engine
        runs = run_batch(opt, fn, [fn.start], 20, {"lr": lr}, escape_factor=np.inf)
    assert runs.status[0] == DIVERGED
    # recompute the path by hand: x ← x − lr·∇f until f or x stops being finite
    x = np.array([fn.start], dtype=float)
    first_bad = None
    with np.errstate(all="ignore"):
        for step in range(1, 21):
            x = x - lr * fn.gradient(x)
            if not (np.isfinite(x).all() and np.isfinite(fn.values(x)).all()):
                first_bad = step
                break
    assert first_bad == expected_stop
    assert runs.stop_step[0] == first_bad
    assert runs.last[0] == first_bad - 1
    assert np.isfinite(runs.values[0, :first_bad]).all()
    assert np.isnan(runs.values[0, first_bad:]).all() and np.isnan(runs.points[0, first_bad:]).all()
    assert np.isfinite(runs.final_value[0])
    assert "diverged at step" in engine.describe(runs.status[0], runs.stop_step[0], 20)


def test_newton_with_a_singular_hessian_diverges_at_step_one():
    opt, fn = optimizers.get("newton"), functions.get("monkey_saddle")
    runs = run_batch(opt, fn, [(0.0, 0.0), (1.2, 0.3)], 5, opt.defaults)
    assert runs.status[0] == DIVERGED and runs.stop_step[0] == 1 and runs.last[0] == 0
    assert np.isnan(runs.points[0, 1:]).all()
    assert runs.status[1] != DIVERGED or runs.stop_step[1] > 1


# --- Statuses -----------------------------------------------------------------------------------------------------


def test_status_converged_newton_ill_conditioned():
    runs = run_batch(optimizers.get("newton"), functions.get("ill_conditioned"), [(-1.6, 0.4)], 5,
                     {"lr": 1.0, "damping": 0.0})
    assert runs.status[0] == CONVERGED
    assert runs.steps_to_tolerance[0] == 1
    assert runs.minimizer[0] == 0 and runs.distance[0] < 1e-12
    assert runs.stop_step[0] == -1 and runs.last[0] == 5


def test_status_stalled_at_the_saddle_point():
    runs = run_batch(optimizers.get("sgd"), functions.get("saddle"), [(0.0, 0.0)], 10, {"lr": 0.1})
    assert runs.status[0] == STALLED
    assert np.all(runs.points[0] == 0.0)
    assert np.isnan(runs.gap[0]) and runs.minimizer[0] == -1 and runs.steps_to_tolerance[0] == -1


def test_status_stalled_in_a_local_minimum():
    fn = functions.get("three_hump_camel")  # a local minimum at about (1.748, -0.874)
    runs = run_batch(optimizers.get("newton"), fn, [(1.7, -0.85)], 30, {"lr": 1.0, "damping": 0.0})
    assert runs.status[0] == STALLED
    assert runs.gap[0] > 0.29 and runs.minimizer[0] == -1


def test_status_moving_on_a_short_run():
    runs = run_batch(optimizers.get("adam"), functions.get("rosenbrock"), [(-1.2, 1.0)], 5,
                     optimizers.get("adam").defaults)
    assert runs.status[0] == MOVING
    assert engine.describe(MOVING, -1, 5) == "still moving after 5 steps"


def test_status_escaped_on_the_saddle():
    runs = run_batch(optimizers.get("sgd"), functions.get("saddle"), [(-1.8, 1e-3)], 300, {"lr": 0.1})
    assert runs.status[0] == ESCAPED
    stop = runs.stop_step[0]
    assert abs(runs.points[0, stop, 1]) > 10 * 2.0 and runs.last[0] == stop


def test_zero_steps():
    fn = functions.get("booth")
    runs = run_batch(optimizers.get("adam"), fn, [fn.start], 0, optimizers.get("adam").defaults)
    assert runs.points.shape == (1, 1, 2) and runs.status[0] == MOVING and runs.last[0] == 0


# --- trajectory() -------------------------------------------------------------------------------------------------


def test_trajectory_api():
    run = trajectory("adam", "rosenbrock", start=(-1.2, 1.0), steps=200, lr=0.03)
    assert isinstance(run, Trajectory)
    assert run.points.shape == (201, 2)
    np.testing.assert_array_equal(run.points[0], [-1.2, 1.0])
    assert run.values.shape == (201,) and run.grad_norms.shape == (201,)
    fn = functions.get("rosenbrock")
    np.testing.assert_array_equal(run.values, fn.values(run.points))
    assert run.status in STATUSES
    assert run.steps == 200
    assert run.hyperparameters == {"lr": 0.03, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert run.optimizer == "adam" and run.function == "rosenbrock"
    assert isinstance(run.description, str) and run.description
    # the same as the engine's batch of one
    opt = optimizers.get("adam")
    batch = run_batch(opt, fn, [(-1.2, 1.0)], 200, opt.hyperparameters({"lr": 0.03}))
    np.testing.assert_array_equal(run.points, batch.points[0])
    assert run.status == STATUSES[batch.status[0]]


def test_trajectory_defaults_and_errors():
    run = trajectory("sgd", "booth", steps=3)
    np.testing.assert_array_equal(run.points[0], functions.get("booth").start)
    for kwargs in ({"steps": -1}, {"steps": engine.MAX_STEPS + 1}, {"steps": 2.5}, {"steps": True},
                   {"start": (float("nan"), 0.0)}, {"start": (100.0, 100.0)}, {"start": (1.0,)}, {"lr": 0},
                   {"nonsense": 1}):
        with pytest.raises(UserError):
            trajectory("sgd", "booth", **kwargs)
    with pytest.raises(UserError, match="adam"):
        trajectory("adm", "booth")
    with pytest.raises(UserError, match="booth"):
        trajectory("adam", "bothe")


# --- Metrics ------------------------------------------------------------------------------------------------------


def test_steps_to_tolerance_is_the_first_step_within_tolerance():
    fn = functions.get("booth")
    opt = optimizers.get("sgd")
    runs = run_batch(opt, fn, [fn.start, (0.0, 0.0), fn.minimizers[0]], 400, opt.hyperparameters({"lr": 0.05}))
    for i in range(3):
        within = np.flatnonzero(runs.values[i] - fn.minimum <= engine.TOLERANCE)
        assert runs.steps_to_tolerance[i] == (within[0] if len(within) else -1)
    assert runs.steps_to_tolerance[2] == 0  # starting on the minimizer
    assert runs.steps_to_tolerance[0] > 0 and runs.steps_to_tolerance[1] > 0
    short = run_batch(opt, fn, [fn.start], 5, opt.hyperparameters({"lr": 0.05}))
    assert short.steps_to_tolerance[0] == -1


def test_last_for_a_run_without_any_finite_row():
    runs = run_batch(optimizers.get("sgd"), functions.get("rosenbrock"), [(np.nan, 0.0)], 3, {"lr": 1e-3})
    assert runs.last[0] == 0 and runs.status[0] == DIVERGED and runs.stop_step[0] == 0


def test_summarize_by_hand():
    fn = functions.get("booth")  # f* = 0, minimizer (1, 3), width 20
    values = np.array([
        [5.0, 1e-3, 1e-7, 2e-6, 5e-7],  # within 1e-6 at step 2, ends within: converged
        [5.0, 1.0, 0.5, 0.25, 0.1],  # never: moving
        [5.0, 1e-7, np.nan, np.nan, np.nan],  # diverged at step 2 after reaching the tolerance at step 1
    ])
    points = np.zeros(values.shape + (2,))
    points[0, -1] = (1.0 + 1e-4, 3.0)
    points[1, -1] = (1.0 + 0.5, 3.0)  # 0.5 > 1 % of 20: not captured
    points[2, 2:] = np.nan
    points[2, 1] = (1.0, 3.0 + 1e-4)
    grad_norms = np.where(np.isfinite(values), 1.0, np.nan)
    runs = summarize(fn, points, values, grad_norms, np.array([-1, -1, 2]), np.array([MOVING, MOVING, DIVERGED]))
    assert list(runs.steps_to_tolerance) == [2, -1, 1]
    assert list(runs.status) == [CONVERGED, MOVING, DIVERGED]
    assert list(runs.last) == [4, 4, 1]
    assert list(runs.minimizer) == [0, -1, 0]
    np.testing.assert_allclose(runs.gap, [5e-7, 0.1, 1e-7])
    np.testing.assert_allclose(runs.distance, [1e-4, 0.5, 1e-4], rtol=1e-9)


def test_himmelblau_minimizer_index():
    fn = functions.get("himmelblau")
    opt = optimizers.get("adam")
    targets = np.array(fn.minimizers)
    starts = targets + np.array([[0.3, -0.2], [-0.25, 0.2], [0.2, 0.3], [-0.3, -0.2]])
    runs = run_batch(opt, fn, starts, 2000, opt.hyperparameters({"lr": 0.01}))
    assert list(runs.minimizer) == [0, 1, 2, 3]
    assert np.all(runs.distance < engine.CAPTURE_FRACTION * fn.width)
    # and a run that ends between minima is assigned to none
    far = run_batch(opt, fn, [(0.0, 0.0)], 0, opt.defaults)
    assert far.minimizer[0] == -1


# --- Sweep ----------------------------------------------------------------------------------------------------------


def test_lr_grid_spans_the_search_limits():
    settings = Settings()
    for default in (1e-3, 0.01, 1.0):
        grid = sweep.lr_grid(default, settings)
        assert len(grid) == settings.lr_per_decade * (settings.lr_limit_below + settings.lr_limit_above) + 1
        assert grid[0] == pytest.approx(default * 10.0 ** -settings.lr_limit_below, rel=1e-12)
        assert grid[-1] == pytest.approx(default * 10.0 ** settings.lr_limit_above, rel=1e-12)
        assert np.diff(np.log10(grid)) == pytest.approx(np.full(len(grid) - 1, 1 / settings.lr_per_decade))
        assert np.isclose(grid, default, rtol=1e-12).sum() == 1  # the default itself is a grid point
    small = dataclasses.replace(settings, lr_per_decade=1, lr_limit_below=1.0, lr_limit_above=1.0)
    np.testing.assert_allclose(sweep.lr_grid(0.01, small), [1e-3, 1e-2, 1e-1], rtol=1e-12)


def test_the_shown_window_is_centred_on_the_chosen_rate_and_slides_inside_the_grid():
    settings = Settings()  # 2 decades either side at 4 per decade: 17 rates of the 41 searched
    assert sweep.shown_window(41, 20, settings) == slice(12, 29)
    assert sweep.shown_window(41, 3, settings) == slice(0, 17)
    assert sweep.shown_window(41, 40, settings) == slice(24, 41)
    assert sweep.shown_window(5, 2, settings) == slice(0, 5)


def test_the_search_runs_every_rate_within_the_limits_and_keeps_the_window_about_the_best():
    """SGD's default 1e-3 is far too small for Booth: the best rate lies three decades up, which a search that
    extends only from an edge also found; the exhaustive one finds it without extending, and equals a grid that was
    that wide from the start."""
    settings = dataclasses.replace(Settings(), lr_decades_below=0.5, lr_decades_above=0.5, steps=100)
    cell = sweep.compute_cell("sgd", "booth", settings)
    np.testing.assert_array_equal(cell.search.lrs, sweep.lr_grid(1e-3, settings))
    assert len(cell.lrs) == 5 and 0 < cell.best < 4  # the window: half a decade either side of the best
    start = list(cell.search.lrs).index(cell.lrs[0])
    np.testing.assert_array_equal(cell.search.lrs[start:start + 5], cell.lrs)
    np.testing.assert_array_equal(cell.search.gap[start:start + 5], cell.runs.gap)
    assert cell.lrs[cell.best] >= 0.1  # two decades above the default
    # the best of the window is the best of the whole search
    usable = ~engine.is_failure(cell.search.status, functions.get("booth"))
    assert np.abs(cell.search.gap[usable]).min() == pytest.approx(max(abs(cell.runs.gap[cell.best]), 1e-6), abs=1e-6)
    capped = dataclasses.replace(settings, lr_limit_above=1.0)
    assert sweep.compute_cell("sgd", "booth", capped).search.lrs[-1] == pytest.approx(1e-2)


def test_cells_of_a_function_computed_together_equal_each_alone():
    settings = Settings(steps=40, basin_grid=4, lr_per_decade=2, lr_decades_below=1, lr_decades_above=1)
    names = ["sgd", "momentum", "adam", "radam", "newton", "lion"]
    together = sweep.compute_cells("himmelblau", names, settings)
    for name in names:
        assert_cells_equal(together[name], sweep.compute_cell(name, "himmelblau", settings))


def test_cells_of_several_functions_computed_in_one_batch_equal_each_function_alone():
    """compute_many advances several functions' runs together (one batch per horizon): every cell, with its
    schedules, noisy seeds, basins and second-axis map, pickles to the same bytes as its function computed alone.
    The functions differ in horizon, f* (the saddle has none, so Polyak's step has no cell there), escape box
    (McCormick's is its domain), and the optimizers include Newton (Hessian rows) and schedule-free (a shown point)."""
    settings = Settings(horizons={"saddle": 50}, steps=40, basin_grid=3, lr_per_decade=1, lr_decades_below=1,
                        lr_decades_above=1, lr_limit_below=2, lr_limit_above=2, noise_seeds=3)
    names = ["momentum", "newton", "schedule_free_adamw", "polyak_sgd", "prodigy"]
    work = {f: [o for o in names if optimizers.get(o).applies_to(functions.get(f))]
            for f in ("himmelblau", "saddle", "mccormick", "rosenbrock")}
    together = sweep.compute_many(work, settings)
    assert {f: list(cells) for f, cells in together.items()} == work
    for f, opts in work.items():
        alone = sweep.compute_cells(f, opts, settings)
        for o in opts:
            assert pickle.dumps(together[f][o]) == pickle.dumps(alone[o]), (o, f)


def assert_same_leaves(a, b, where):
    """Every array (bytes, dtype and shape) and number of two nested dataclasses, dicts and tuples is the same."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for field in dataclasses.fields(a):
            assert_same_leaves(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, (dict, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for key in (a if isinstance(a, dict) else range(len(a))):
            assert_same_leaves(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert pickle.dumps(a) == pickle.dumps(b), where


def test_a_cached_cell_reads_back_equal_and_writable(tmp_path):
    settings = Settings(steps=40, basin_grid=3, lr_per_decade=1, lr_decades_below=1, lr_decades_above=1,
                        noise_seeds=2)
    for name, cell in sweep.compute_cells("beale", ["adam", "lbfgs", "newton"], settings).items():
        sweep.save_cell(cell, tmp_path / f"{name}.cell")
        back = sweep.load_cell(tmp_path / f"{name}.cell")
        assert_same_leaves(back, cell, name)
        assert back.runs.points.flags.writeable and back.basin.status.flags.writeable
    (tmp_path / "other.cell").write_bytes(b"PK\x03\x04 an old .npz")
    with pytest.raises(ValueError, match="not a cached cell"):
        sweep.load_cell(tmp_path / "other.cell")


def test_sweep_tasks_batch_a_few_functions_of_one_horizon_longest_first():
    settings = Settings(horizons={"rosenbrock": 1000, "beale": 1000})
    stale = {f: ["sgd", "adam"] for f in settings.functions}
    tasks = sweep._tasks(stale, settings)
    assert sorted(f for task in tasks for f in task) == sorted(stale)
    assert all(len(task) <= sweep.FUNCTIONS_PER_TASK for task in tasks)
    assert all(len({settings.steps_for(f) for f in task}) == 1 for task in tasks)
    assert set(tasks[0]) == {"rosenbrock", "beale"}  # the longest task starts first


def test_one_batch_of_many_optimizers_equals_each_alone():
    fn = functions.get("beale")
    members = []
    for i, name in enumerate(["adam", "newton", "sgd", "nadam"]):
        opt = optimizers.get(name)
        starts = np.array([fn.start, (1.0, -1.0 + i * 0.1)])
        members.append(engine.Member(opt, starts, {**opt.defaults, "lr": opt.defaults["lr"] * np.array([1.0, 3.0])},
                                     keep_paths=i % 2 == 0))
    runs = engine.run_many(fn, members, 50)
    for member, got in zip(members, runs):
        alone = run_batch(member.opt, fn, member.starts, 50, member.hyper, keep_paths=member.keep_paths)
        assert_runs_equal(alone, got)



def test_a_batch_that_drops_its_stopped_runs_equals_each_member_alone(monkeypatch):
    """Members without paths (basin-like) drop their stopped runs from the batch once that saves enough
    (engine.DROP_AFTER): every optimizer's state follows its runs (L-BFGS's memory keeps them on its last axis),
    Newton's Hessian rows and schedule-free's shown point too. Each member's summaries equal its runs done alone
    with paths, where nothing is dropped."""
    dropping = []
    keep = engine._Group.keep
    monkeypatch.setattr(engine._Group, "keep", lambda group, *args: dropping.append(group.opt.name) or
                        keep(group, *args))
    steps, members = 260, []  # beyond L-BFGS's 100 stored pairs, when its window slides
    # unbounded; a domain runs leave (escape factor 1); a long valley where L-BFGS keeps storing pairs
    for fn in (functions.get("saddle"), functions.get("mccormick"), functions.get("rosenbrock")):
        (x0, x1), (y0, y1) = fn.domain
        grid = np.stack(np.meshgrid(np.linspace(x0, x1, 5), np.linspace(y0, y1, 5)), -1).reshape(-1, 2)
        for opt in optimizers.CATALOGUE.values():
            if opt.applies_to(fn):
                lrs = opt.defaults["lr"] * np.geomspace(0.3, 30, len(grid))  # larger rates leave sooner
                members.append(engine.Member(opt, grid, {**opt.defaults, **opt.for_function(fn), "lr": lrs},
                                             keep_paths=False, fn=fn))
    together = engine.run_many(None, members, steps)
    assert set(dropping) == set(optimizers.CATALOGUE)
    summaries = [name for name in FIELDS if name not in ("points", "values", "grad_norms")]
    for member, got in zip(members, together):
        alone = run_batch(member.opt, member.fn, member.starts, steps, member.hyper)
        for name in summaries:
            assert np.array_equal(getattr(alone, name), getattr(got, name), equal_nan=True), (member.opt.name, name)


@pytest.mark.parametrize("name", sorted(optimizers.CATALOGUE))
def test_a_group_that_keeps_some_runs_goes_on_as_those_runs(name):
    """engine._Group.keep (optimizers.take_rows on the state): after 150 steps of 6 runs on Rosenbrock (L-BFGS
    past its 100 stored pairs, so its window slides), runs 1, 3 and 4 kept alone go on for 40 more steps exactly
    as they do in the whole group."""
    fn, opt = functions.get("rosenbrock"), optimizers.get(name)
    starts = np.array([(-1.5, 2.0), (-1.0, 1.5), (0.0, 0.5), (1.5, 1.5), (-0.5, 0.0), (0.5, -0.5)])
    # small rates: every run is still moving (and L-BFGS still storing pairs) after 150 steps
    hyper = {**opt.defaults, **opt.for_function(fn), "lr": opt.defaults["lr"] * np.linspace(0.01, 0.05, 6)}

    def advance(group, points, steps, first):
        with np.errstate(all="ignore"):
            for step in range(first, first + steps):
                value, grads, hess = fn.value_grad_and_hessian(points)
                points = points + group.update(step, grads, points, value=value, hessian=hess)
        return points

    whole = engine._Group([engine.Member(opt, starts, hyper)], [6], slice(0, 6), 190)
    whole.state = whole.transform.init(starts)
    points = advance(whole, starts, 150, 1)
    kept = np.array([1, 3, 4])
    part = engine._Group([engine.Member(opt, starts, hyper)], [6], slice(0, 6), 190)
    part.state = whole.state
    part.keep(kept, slice(0, 3))
    np.testing.assert_array_equal(advance(part, points[kept], 40, 151), advance(whole, points, 40, 151)[kept])


def test_members_of_one_optimizer_advance_as_one_group_equal_each_alone():
    """Members sharing an optimizer are updated together: a constant one recording its state, a scheduled one, a
    noisy one and a basin-like one with a per-run second hyperparameter, beside Newton (Hessian rows) and
    schedule-free (a shown point); each equals its member run alone, bit for bit."""
    fn, steps = functions.get("himmelblau"), 40
    cosine = (1 + np.cos(np.pi * np.arange(steps) / steps)) / 2
    members = []
    for name in ["lbfgs", "newton", "schedule_free_adamw", "adam"]:
        opt = optimizers.get(name)
        lrs = opt.defaults["lr"] * np.array([0.3, 1.0, 30.0])
        start = np.repeat([fn.start], 3, axis=0)
        grid = np.array([(-4.0, 3.5), (0.5, 0.0), (2.0, -2.0), (4.0, 4.0)])
        members += [engine.Member(opt, start, {**opt.defaults, "lr": lrs}, schedule=cosine),
                    engine.Member(opt, start, {**opt.defaults, "lr": lrs}, record_state=True),
                    engine.Member(opt, np.repeat([fn.start], 4, axis=0), {"lr": lrs[1]}, noise=0.5,
                                  seed=np.arange(4)),
                    engine.Member(opt, grid, {**opt.defaults, "lr": lrs[0]}, keep_paths=False)]
        if opt.second_axis is not None:
            axis, values = opt.second_axis
            members.append(engine.Member(opt, start, {**opt.defaults, axis: np.array(values[:3])},
                                         keep_paths=False))
    together = engine.run_many(fn, members, steps)
    for member, got in zip(members, together):
        alone = engine.run_many(fn, [member], steps)[0]
        assert_runs_equal(alone, got)
        assert alone.state.keys() == got.state.keys()
        for key in alone.state:
            assert np.array_equal(alone.state[key], got.state[key], equal_nan=True), key
    lbfgs, _, schedule_free, adam = (got.state for member, got in zip(members, together) if member.record_state)
    assert "d" in lbfgs and "exp_avg" in adam and "gradient_point" in schedule_free  # schedule-free's y too

TINY = Settings(optimizers=("sgd", "adam"), functions=("booth", "himmelblau"), steps=50, basin_grid=5, lr_per_decade=1,
                lr_decades_below=1, lr_decades_above=1, lr_limit_below=1, lr_limit_above=1)


def cell_arrays(cell):
    out = {"lrs": cell.lrs, "xs": cell.basin_axes[0], "ys": cell.basin_axes[1]}
    for prefix, runs in (("lr_", cell.runs), ("basin_", cell.basin), ("shifted_", cell.controls.shifted),
                         ("nudged_", cell.controls.nudged)):
        out.update({prefix + name: getattr(runs, name) for name in FIELDS})
    out.update({f"search_{name}": getattr(cell.search, name) for name in sweep.LrSearch.FIELDS})
    if cell.noisy is not None:
        out.update({f"noise_{name}": getattr(cell.noisy, name) for name in sweep.NoisySweep.ARRAYS})
    return out


def assert_cells_equal(a, b):
    assert (a.optimizer, a.function, a.hyperparameters, a.start, a.best, a.basin_lr, a.controls.inert_schedules,
            a.controls.same_as_neighbour) == (b.optimizer, b.function, b.hyperparameters, b.start, b.best,
                                              b.basin_lr, b.controls.inert_schedules, b.controls.same_as_neighbour)
    left, right = cell_arrays(a), cell_arrays(b)
    for key in left:
        assert left[key].shape == right[key].shape, key
        assert np.array_equal(left[key], right[key], equal_nan=left[key].dtype.kind == "f"), key


def test_run_sweep_caches_cells(tmp_path):
    first = sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path, quiet=True)
    assert (first.computed, first.cached) == (4, 0)
    assert set(first.cells) == {(o, f) for o in TINY.optimizers for f in TINY.functions}
    assert len(list(tmp_path.glob("*.cell"))) == 4
    cell = first.cells[("adam", "himmelblau")]
    assert cell.runs.points.shape == (3, 51, 2)
    np.testing.assert_allclose(cell.lrs, sweep.lr_grid(1e-3, TINY))  # the limits are the window's: 3 rates
    assert cell.basin.status.shape == (25,) and cell.basin.points.shape == (25, 0, 2)  # no paths kept
    assert cell.start == functions.get("himmelblau").start
    assert -1 <= cell.best < 3
    if cell.best >= 0:
        assert cell.basin_lr == cell.lrs[cell.best]
    # the cell equals a direct computation
    direct = sweep.compute_cell("adam", "himmelblau", TINY)
    assert_runs_equal(direct.runs, cell.runs)
    np.testing.assert_array_equal(direct.basin.status, cell.basin.status)

    second = sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path, quiet=True)
    assert (second.computed, second.cached) == (0, 4)
    for pair in first.cells:
        assert_cells_equal(first.cells[pair], second.cells[pair])


def test_changing_one_optimizers_hyperparameters_recomputes_only_its_cells(tmp_path):
    sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path, quiet=True)
    changed = dataclasses.replace(TINY, hyperparameters={"adam": {"beta1": 0.8}})
    report = sweep.run_sweep(changed, jobs=1, cache_dir=tmp_path, quiet=True)
    assert (report.computed, report.cached) == (2, 2)
    assert report.cells[("adam", "booth")].hyperparameters["beta1"] == 0.8
    keys = {pair: sweep.cell_key(*pair, TINY) for pair in report.cells}
    new_keys = {pair: sweep.cell_key(*pair, changed) for pair in report.cells}
    assert {pair for pair in keys if keys[pair] != new_keys[pair]} == {("adam", "booth"), ("adam", "himmelblau")}
    # an override equal to the default changes nothing
    same = dataclasses.replace(TINY, hyperparameters={"sgd": {"lr": 1e-3}})
    assert sweep.run_sweep(same, jobs=1, cache_dir=tmp_path, quiet=True).computed == 0


def test_cell_key_tracks_settings_that_change_numbers():
    pair = ("adam", "booth")
    base = sweep.cell_key(*pair, TINY)
    assert sweep.cell_key(*pair, dataclasses.replace(TINY, description="another text")) == base
    for change in ({"steps": 51}, {"basin_grid": 6}, {"lr_per_decade": 4}, {"tolerance": 1e-8},
                   {"starts": {"booth": (0.0, 0.0)}}, {"lr_decades_above": 2.0}, {"lr_limit_above": 3.0}):
        assert sweep.cell_key(*pair, dataclasses.replace(TINY, **change)) != base, change
    assert sweep.cell_key(*pair, dataclasses.replace(TINY, starts={"himmelblau": (0.0, 0.0)})) == base


def test_parallel_sweep_equals_serial(tmp_path):
    serial = sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path / "serial", quiet=True)
    parallel = sweep.run_sweep(TINY, jobs=2, cache_dir=tmp_path / "parallel", quiet=True)
    assert parallel.computed == 4
    for pair in serial.cells:
        assert_cells_equal(serial.cells[pair], parallel.cells[pair])


# --- Regressions: bugs found by these tests and fixed ------------------------------------------------------------


def test_mccormick_run_far_below_the_box_minimum_is_not_converged():
    opt, fn = optimizers.get("adamw"), functions.get("mccormick")
    runs = run_batch(opt, fn, [fn.start], 300, opt.hyperparameters({"lr": 1.0}))
    # Outside its box McCormick falls without bound, so leaving the box ends the run there.
    assert runs.status[0] == ESCAPED and not fn.contains(runs.final_point[0])
    # And a gap below -tolerance is never "converged", whatever the function.
    values = np.array([[1.0, fn.minimum - 1.0]])
    points = np.array([[fn.start, fn.minimizers[0]]])
    by_hand = summarize(fn, points, values, np.zeros((1, 2)), np.array([-1]), np.array([MOVING]))
    assert by_hand.status[0] != CONVERGED and by_hand.steps_to_tolerance[0] == -1


def test_sweep_does_not_choose_a_run_that_left_mccormicks_box_below_f_star():
    opt, fn = optimizers.get("lion"), functions.get("mccormick")
    settings = Settings()
    lrs = sweep.lr_grid(opt.defaults["lr"], settings)
    runs = run_batch(opt, fn, np.repeat([fn.start], len(lrs), axis=0), settings.steps_for(fn.name),
                     {**opt.defaults, "lr": lrs})
    best = criteria.choose_best(runs, fn, settings.tolerance)
    assert best >= 0
    assert fn.contains(runs.final_point[best]) and runs.gap[best] >= -settings.tolerance


def test_cell_key_covers_the_code_that_computes_a_cell():
    """Editing lr_grid (or anything compute_many calls) changes the source that the cache key hashes."""

    parts = "\n".join(fingerprints.source_closure(sweep.compute_many))
    for helper in (sweep.lr_grid, sweep.search_many, sweep._run_by_horizon, sweep._lr_members, sweep.compute_many):
        assert fingerprints.code_of(helper) in parts

def test_cell_key_covers_the_radius_gradient_rule():

    parts = "\n".join(fingerprints.source_closure(functions.get("ackley").formula))
    assert "def radius(x, y)" in parts  # the primitive itself ...
    assert "safe = np.where(ans > 0, ans, 1.0)" in parts  # ... its gradient rule ...
    assert "defvjp(radius" in parts  # ... and how the rule is bound to each argument


@pytest.mark.parametrize("opt_name, key", [("adam", "beta1"), ("adam", "beta2"), ("radam", "beta2"),
                                           ("adamax", "beta1"), ("nadam", "beta1"), ("newton", "damping")])
def test_any_hyperparameter_may_vary_across_a_batch(opt_name, key):
    """One value per run gives each run exactly what it gives alone, statuses included."""
    opt, fn = optimizers.get(opt_name), functions.get("rosenbrock")
    values = [0.3, 0.5, 0.9, 0.95]
    batch = run_batch(opt, fn, np.repeat([fn.start], 4, axis=0), 30, {**opt.defaults, key: np.array(values)})
    for i, value in enumerate(values):
        alone = run_batch(opt, fn, [fn.start], 30, {**opt.defaults, key: value})
        np.testing.assert_array_equal(batch.points[i], alone.points[0])
        assert batch.status[i] == alone.status[0] and batch.stop_step[i] == alone.stop_step[0]


def test_cards_are_not_hashed_but_code_is(monkeypatch):
    """A typo fix in a title or summary recomputes nothing; an edit to the update rule does."""
    import dataclasses as dc

    opt = optimizers.get("adam")
    base = sweep.cell_key("adam", "booth", TINY)
    monkeypatch.setitem(optimizers.CATALOGUE, "adam", dc.replace(opt, title="Adam!", summary="typo fixed"))
    assert sweep.cell_key("adam", "booth", TINY) == base
    code = fingerprints.code_of(opt.factory)
    assert "summary" not in code and "def adam" in code
    # the shared helpers of the optimizer package (another module) are hashed too
    parts = "\n".join(fingerprints.source_closure(opt.factory))
    assert "def lerp" in parts and "def _adam" in parts


def test_a_run_resting_at_the_minimizer_is_not_called_stalled():
    """With a tight tolerance a run can sit at the minimizer with a tiny gradient but a gap above tolerance."""
    opt, fn = optimizers.get("sgd"), functions.get("matyas")
    runs = run_batch(opt, fn, [fn.start], 270, {"lr": 1.0}, tolerance=1e-12)
    assert runs.minimizer[0] == 0 and runs.gap[0] > 1e-12
    assert runs.status[0] == MOVING


@pytest.mark.parametrize("name, function", [("adam", "himmelblau"), ("sgd", "rosenbrock"), ("newton", "saddle")])
def test_summaries_do_not_depend_on_keeping_paths(name, function):
    opt, fn = optimizers.get(name), functions.get(function)
    (x0, x1), (y0, y1) = fn.domain
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9)), axis=-1).reshape(-1, 2)
    hyper = {**opt.defaults, "lr": opt.defaults["lr"] * 30}
    full = run_batch(opt, fn, grid, 120, hyper)
    lean = run_batch(opt, fn, grid, 120, hyper, keep_paths=False)
    assert lean.points.shape == (81, 0, 2)
    for field in ("status", "stop_step", "last", "final_point", "final_value", "gap", "distance",
                  "steps_to_tolerance", "minimizer"):
        np.testing.assert_array_equal(getattr(full, field), getattr(lean, field), err_msg=field)
    # and both agree with summarizing the full paths after the fact
    again = summarize(fn, full.points, full.values, full.grad_norms, full.stop_step,
                             np.where(full.stop_step >= 0, full.status, MOVING))
    np.testing.assert_array_equal(again.status, full.status)
    np.testing.assert_array_equal(again.steps_to_tolerance, full.steps_to_tolerance)


def test_sweep_on_a_dask_cluster_equals_local(tmp_path):
    """`--executor dask://HOST:PORT` runs the same per-function tasks on an existing cluster (here in-process)."""
    distributed = pytest.importorskip("distributed")
    from conftest import run_cli

    (tmp_path / "gallery.toml").write_text(
        '[sweep]\noptimizers = ["sgd", "adam"]\nfunctions = ["booth", "himmelblau"]\nsteps = 50\nbasin_grid = 5\n'
        '[sweep.learning_rates]\nper_decade = 1\ndecades_below = 1\ndecades_above = 1\nlimit_below = 1\n'
        'limit_above = 1\n')
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        result = run_cli("sweep", "--quiet", "--executor", f"dask://{address}", cwd=tmp_path, cache=tmp_path / "c")
    assert result.returncode == 0, result.stderr
    assert "4 computed" in result.stdout
    remote = sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path / "c", quiet=True)
    assert remote.computed == 0  # every cell came from the cluster's results
    local = sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path / "local", quiet=True)
    for pair in local.cells:
        assert_cells_equal(local.cells[pair], remote.cells[pair])


def test_bad_executor_address_is_one_line(tmp_path):
    from conftest import run_cli

    result = run_cli("sweep", "--executor", "spark://x", cwd=tmp_path, cache=tmp_path / "c")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "dask://HOST:PORT" in result.stderr


def test_noise_is_seeded_by_seed_and_step_only():
    """Every run with the same seed sees the same ξ_t, whatever its optimizer, learning rate or position."""
    fn, steps, sigma = functions.get("booth"), 40, 0.5
    sgd = optimizers.get("sgd")
    lrs = np.array([0.01, 0.03])
    runs = run_batch(sgd, fn, [fn.start, (1.0, -2.0)], steps, {"lr": lrs}, noise=sigma, seed=7)
    expected = np.random.default_rng(7).standard_normal((steps, 2))
    for i, lr in enumerate(lrs):
        points = runs.points[i]
        grads = fn.gradient(points[:-1])
        xi = ((points[:-1] - points[1:]) / lr - grads) / sigma
        np.testing.assert_allclose(xi, expected, atol=1e-8)
        np.testing.assert_array_equal(runs.values[i], fn.values(points))  # the true f, not a noisy one
    # the same seed twice: bit-identical; σ = 0: exactly the deterministic run; another seed: another path
    again = run_batch(sgd, fn, [fn.start, (1.0, -2.0)], steps, {"lr": lrs}, noise=sigma, seed=7)
    assert_runs_equal(runs, again)
    quiet = run_batch(sgd, fn, [fn.start, (1.0, -2.0)], steps, {"lr": lrs}, noise=0.0, seed=7)
    assert_runs_equal(quiet, run_batch(sgd, fn, [fn.start, (1.0, -2.0)], steps, {"lr": lrs}))
    other = run_batch(sgd, fn, [fn.start, (1.0, -2.0)], steps, {"lr": lrs}, noise=sigma, seed=8)
    assert not np.array_equal(other.points, runs.points)


def test_a_schedule_multiplies_each_updates_learning_rate():
    fn, steps = functions.get("booth"), 30
    scale = (1 + np.cos(np.pi * np.arange(steps) / steps)) / 2
    runs = run_batch(optimizers.get("sgd"), fn, [fn.start], steps, {"lr": 0.02}, schedule=scale)
    points = runs.points[0]
    np.testing.assert_allclose(points[1:] - points[:-1], -0.02 * scale[:, None] * fn.gradient(points[:-1]),
                               rtol=1e-12, atol=1e-15)
    # Adam's state carries over between updates while its lr changes (torch's scheduler semantics)
    adam = optimizers.get("adam")
    flat = run_batch(adam, fn, [fn.start], steps, {**adam.defaults, "lr": 0.1})
    constant = run_batch(adam, fn, [fn.start], steps, {**adam.defaults, "lr": 0.1}, schedule=np.ones(steps))
    assert_runs_equal(flat, constant)


def test_recorded_state_is_the_optimizers_own():
    """Adam's exp_avg and exp_avg_sq at every step, as its update left them; NaN after a run stops."""
    adam, fn = optimizers.get("adam"), functions.get("rosenbrock")
    hyper = {**adam.defaults, "lr": np.array([0.05, 50.0])}
    member = engine.Member(adam, np.array([fn.start, fn.start]), hyper, record_state=True)
    runs = engine.run_many(fn, [member], 40)[0]
    plain = run_batch(adam, fn, member.starts, 40, hyper)
    assert_runs_equal(runs, plain)  # recording changes nothing
    m, v = runs.state["exp_avg"], runs.state["exp_avg_sq"]
    assert m.shape == v.shape == (2, 41, 2) and "gradient_point" not in runs.state
    np.testing.assert_array_equal(m[:, 0], 0.0)
    # by hand from the recorded path: m_t = β1 m_{t-1} + (1 − β1) g_t at the point before step t
    grads = fn.gradient(runs.points[0, :-1])
    expected = np.zeros(2)
    for t in range(1, 41):
        expected = 0.9 * expected + 0.1 * grads[t - 1]
        np.testing.assert_allclose(m[0, t], expected, rtol=1e-12)
    stopped = runs.last[1]
    assert runs.status[1] == ESCAPED and np.isnan(m[1, stopped + 1:]).all() and np.isfinite(m[1, : stopped + 1]).all()

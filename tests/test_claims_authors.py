"""Claims about measured behaviour in the explanations of Prodigy and schedule-free AdamW that are not filled in from
a run at build time: one test per claim, quoting the sentence (see tests/test_claims.py)."""

from __future__ import annotations

import numpy as np

from gallery_builder import functions, optimizers
from gallery_builder.engine import Member, run_many

from test_claims import SETTINGS, claim, run

PRODIGY = "optimizers/prodigy.md"
FREE = "optimizers/schedule_free_adamw.md"
SETTLED = ["booth", "beale", "himmelblau", "ill_conditioned"]
SLOPES = ["booth", "beale", "himmelblau", "matyas", "ill_conditioned"]


def recorded(opt_name, fn_name, steps=None, **hyper):
    """The run from the function's start with the optimizer's state at every step."""
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    steps = SETTINGS.steps_for(fn_name) if steps is None else steps
    return run_many(fn, [Member(opt, np.array([fn.start]), {**opt.defaults, **hyper}, record_state=True)], steps)[0]


def estimate(fn_name, steps=None, lr=1.0):
    """Prodigy's d after each step (NaN after the run stopped), at lr = 1 unless given."""
    return recorded("prodigy", fn_name, steps, lr=lr).state["d"][0, :, 0]


# --- optimizers/prodigy.md ---------------------------------------------------------------------------------------


def test_prodigy_d_grows_by_the_same_factor_on_every_function():
    claim(PRODIGY, "each step raises $d$ by a factor of about 2.6, the same on every function")
    for name in functions.CATALOGUE:
        d = estimate(name, 10)
        factors = d[5:11] / d[4:10]
        assert np.all((factors > 2.5) & (factors < 2.7)), (name, factors)


def test_prodigy_warm_up_figures_hold_at_lr_1_only():
    claim(PRODIGY, "(Both figures change with `lr`, which enters the numerator twice and the denominator once")
    for name in ("booth", "rosenbrock"):
        for lr in (0.1, 10.0):
            d = estimate(name, 10, lr=lr)
            factors = d[5:11] / d[4:10]
            assert not np.all((factors > 2.5) & (factors < 2.7)), (name, lr, factors)


def test_prodigy_d_below_a_hundredth_after_ten_steps():
    claim(PRODIGY, "after ten steps $d$ is still below 0.01 on every function of the gallery")
    for name in functions.CATALOGUE:
        assert estimate(name, 10)[10] < 0.01, name


def test_prodigy_first_ten_steps_are_short():
    claim(PRODIGY, "nothing seems to happen for about ten steps, then the run leaves the start in a burst")
    for name in functions.CATALOGUE:
        points = recorded("prodigy", name).points[0]
        lengths = np.hypot(*np.diff(points, axis=0).T)
        travelled = lengths[:10].sum()
        assert travelled < 0.02, name  # in all ten steps together
        assert np.nanmax(lengths[10:30]) > 10 * travelled, name  # then single steps far longer


def test_prodigy_d_levels_off_below_the_distance():
    claim(PRODIGY, "it levels off by step 20 and stays there for the rest of the run, below the distance from the "
          "start to the nearest minimizer")
    for name in SETTLED:
        fn, d = functions.get(name), estimate(name)
        assert np.isfinite(d).all() and np.all(d[20:] == d[20]), name
        distance = min(np.hypot(*(np.array(m) - fn.start)) for m in fn.minimizers)
        assert d[-1] < distance, name


def test_prodigy_d_keeps_rising_on_ackley():
    claim(PRODIGY, "the run gathers speed across the ripples, $d$ keeps rising with it")
    d = estimate("ackley")
    last = int(np.flatnonzero(np.isfinite(d))[-1])
    assert last > 30 and d[last] > 10 * d[20] and d[30] > d[20]
    assert run("prodigy", "ackley", 1.0, steps=SETTINGS.steps_for("ackley")).status == "escaped"


def test_prodigy_d_grows_again_on_rosenbrock():
    claim(PRODIGY, "$d$ settles low while the run crosses to the valley floor, then grows again, more than tenfold "
          "by step 100")
    d = estimate("rosenbrock", 100)
    assert d[20] == d[50] and d[100] > 10 * d[20]


def test_prodigy_lr_range_reaches_booth():
    claim(PRODIGY, "each of `lr` = 0.1, 0.3, 1 and 3 reaches Booth's minimum within 300 steps")
    assert SETTINGS.steps_for("booth") == 300
    for lr in (0.1, 0.3, 1.0, 3.0):
        assert run("prodigy", "booth", lr, steps=300).status == "converged", lr


# --- optimizers/schedule_free_adamw.md ---------------------------------------------------------------------------


def test_schedule_free_x_covers_half_of_z():
    claim(FREE, "at the default `lr`, after 100 steps $x$ has covered between 0.45 and 0.55 of the distance $z$ has")
    for name in SLOPES:
        runs = recorded("schedule_free_adamw", name, 100)
        x, z = runs.points[0], runs.state["z"][0]
        ratio = np.hypot(*(x[100] - x[0])) / np.hypot(*(z[100] - z[0]))
        assert 0.45 <= ratio <= 0.55, (name, ratio)


def test_schedule_free_f_of_x_falls_at_every_step():
    claim(FREE, "at the default `lr`, $f(x)$ falls at every one of the 300 steps on those five functions")
    for name in SLOPES:
        assert SETTINGS.steps_for(name) == 300
        values = recorded("schedule_free_adamw", name).values[0]
        assert np.isfinite(values).all() and np.all(np.diff(values) < 0), name


def test_schedule_free_slower_than_adam_at_the_same_lr():
    claim(FREE, "The price is speed at a given `lr`: on Himmelblau at `lr = 0.05`")
    steps = SETTINGS.steps_for("himmelblau")
    free, adam = run("schedule_free_adamw", "himmelblau", 0.05, steps), run("adam", "himmelblau", 0.05, steps)
    assert free.values[-1] > 100 * adam.values[-1] and adam.status == "converged"


def test_schedule_free_gap_falls_at_every_step_at_small_lr():
    claim(FREE, "In the gap panel, at small learning rates the curve falls at every step.")
    for name in SLOPES:
        for lr in (1e-3, 0.0025):
            values = recorded("schedule_free_adamw", name, lr=lr).values[0]
            assert np.all(np.diff(values) < 0), (name, lr)

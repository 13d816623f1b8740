"""The choice criterion (gallery_builder.criteria): real runs for the cases the issue found, synthetic batches for
the corner cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gallery_builder import config, criteria, functions, optimizers, sweep
from gallery_builder.engine import CONVERGED, DIVERGED, ESCAPED, MOVING, STALLED, Runs

SETTINGS = config.Settings()


def lr_runs(opt_name, fn_name, settings=SETTINGS):
    """The runs of one cell at every learning rate the default search tried, with full paths."""
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    found = sweep.search_learning_rates(fn, {opt_name: opt}, {opt_name: settings.hyper(opt_name)},
                                        settings.start(fn_name), settings)
    lrs, runs, _ = found[opt_name]
    return lrs, runs, fn


def best_lr(opt_name, fn_name, settings=SETTINGS):
    lrs, runs, fn = lr_runs(opt_name, fn_name, settings)
    best = criteria.choose_best(runs, fn, SETTINGS.tolerance)
    return (float(lrs[best]) if best >= 0 else None), runs, best


# --- real runs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("opt_name, fn_name, expected", [
    ("momentum", "rastrigin", 1e-5),  # stalls in the same local minimum from 1e-5 to 0.01: gaps equal to 1e-11
    ("adam", "six_hump_camel", 0.00562),  # stalls in the same local minimum from 0.0056 to 0.1 (and 0.562 finds
])                                        # the global one: the search stops at 0.1 here)
def test_gaps_equal_but_for_rounding_go_to_the_smaller_learning_rate(opt_name, fn_name, expected):
    lr, runs, best = best_lr(opt_name, fn_name, dataclasses.replace(SETTINGS, lr_limit_above=2.0))
    assert lr == pytest.approx(expected, rel=1e-3)
    fn = functions.get(fn_name)
    # The runs it beat on the tie rule really are within the tie width, and at least one larger lr is among them.
    tied = np.abs(runs.gap - runs.gap[best]) <= criteria.tie_width(fn)
    assert tied[best + 1:].any()
    assert np.ptp(runs.gap[tied]) > 0  # the gaps differ in their last digits: ties are not exact equality


def test_newton_climbing_on_himmelblau_is_never_best():
    lrs, runs, fn = lr_runs("newton", "himmelblau")
    above = criteria.ended_above_start(runs)
    assert above[list(lrs).index(0.01)]  # the old choice climbed towards the local maximum
    best = criteria.choose_best(runs, fn, SETTINGS.tolerance)
    assert best == -1 or not above[best]
    assert best == -1  # every learning rate climbs, diverges or leaves: none qualifies
    stalled_high = (runs.status == STALLED) & above
    assert stalled_high[list(lrs).index(1.0)]  # at lr 1 it sits on the maximum


def test_newtons_overshoot_on_the_monkey_saddle_is_no_escape():
    lrs, runs, fn = lr_runs("newton", "monkey_saddle")
    i = list(lrs).index(10.0)
    # θ ← −4θ: f alternates in sign and grows; the run leaves on an odd step, so it ends below its start.
    assert runs.status[i] == ESCAPED and runs.stop_step[i] == 3
    np.testing.assert_allclose(runs.values[i, 1:4], [-89.9, 5750, -368050], rtol=1e-3)
    assert runs.final_value[i] < runs.values[i, 0]
    assert not criteria.escapes(runs)[i]
    best = criteria.choose_best(runs, fn, SETTINGS.tolerance)
    assert not criteria.escapes(runs).any() and runs.status[best] != ESCAPED


def test_a_run_that_leaves_above_the_saddle_level_has_not_escaped():
    """AdamW at lr 100 leaves the saddle's box at f ≈ 0.0999, below its start but above the saddle's level 0."""
    lrs, runs, fn = lr_runs("adamw", "saddle")
    i = int(np.argmin(np.abs(np.log(lrs / 100.0))))
    assert runs.status[i] == ESCAPED and 0 < runs.final_value[i] < runs.values[i, 0]
    assert not criteria.escapes(runs)[i]
    best = criteria.choose_best(runs, fn, SETTINGS.tolerance)
    assert criteria.escapes(runs)[best] and runs.final_value[best] < criteria.SADDLE_LEVEL


@pytest.mark.parametrize("opt_name, lr, step", [("momentum", 1.778, 7), ("sgd", 1.0, 10), ("adam", 17.78, 2)])
def test_the_saddle_ranks_by_the_fastest_escape_over_every_learning_rate(opt_name, lr, step):
    lrs, runs, fn = lr_runs(opt_name, "saddle")
    best = criteria.choose_best(runs, fn, SETTINGS.tolerance)
    assert lrs[best] == pytest.approx(lr, rel=1e-3) and runs.stop_step[best] == step
    escaped = criteria.escapes(runs)
    assert escaped[best] and runs.stop_step[escaped].min() == step


def test_unbounded_functions_have_their_saddle_at_the_saddle_level():
    """The overshoot test compares the sign of f with SADDLE_LEVEL; that holds for every unbounded function."""
    for fn in functions.CATALOGUE.values():
        if fn.minimum is None:
            values, grads = fn.value_and_grad(np.zeros((1, 2)))
            assert values[0] == criteria.SADDLE_LEVEL and not grads.any(), fn.name


# --- synthetic batches -------------------------------------------------------------------------------------------


def synthetic(start, finals, status=None, steps_to_tol=None, stop=None, minimum=0.0, before=None):
    """A batch of two-step runs from ``start`` to ``finals``; ``before`` is f at step 1 (default: halfway)."""
    finals = np.asarray(finals, float)
    batch = len(finals)
    before = (start + finals) / 2 if before is None else np.asarray(before, float)
    values = np.stack([np.full(batch, float(start)), before, finals], axis=1)
    status = np.full(batch, MOVING) if status is None else np.asarray(status)
    return Runs(points=np.zeros((batch, 3, 2)), values=values, grad_norms=np.ones((batch, 3)), status=status,
                stop_step=np.full(batch, -1) if stop is None else np.asarray(stop), last=np.full(batch, 2),
                final_point=np.zeros((batch, 2)), final_value=finals,
                gap=finals - minimum if minimum is not None else np.full(batch, np.nan),
                distance=np.zeros(batch),
                steps_to_tolerance=np.full(batch, -1) if steps_to_tol is None else np.asarray(steps_to_tol),
                minimizer=np.full(batch, -1))


BOUNDED = functions.get("rosenbrock")  # f* = 0
SADDLE = functions.get("saddle")


def test_a_gap_smaller_by_more_than_the_tie_width_wins():
    runs = synthetic(10.0, [1.0, 1.0 - 3 * criteria.tie_width(BOUNDED), 1.0])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == 1


def test_gaps_within_the_tie_width_go_to_the_smaller_learning_rate():
    runs = synthetic(10.0, [1.0 + 1e-14, 1.0, 1.0 + 2e-14])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == 0


def test_ties_within_the_tolerance_go_to_the_fewest_steps_then_the_smaller_lr():
    runs = synthetic(10.0, [1e-7, 1e-9, 0.0, 5e-7], status=[CONVERGED] * 4, steps_to_tol=[50, 20, 20, 10])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == 3
    runs = synthetic(10.0, [1e-7, 1e-9, 0.0], status=[CONVERGED] * 3, steps_to_tol=[50, 20, 20])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == 1


def test_the_tie_width_scales_with_the_minimum():
    deep = functions.get("styblinski_tang")  # f* ≈ −78.3
    assert criteria.tie_width(deep) == pytest.approx(1e-9 * abs(deep.minimum))
    assert criteria.tie_width(BOUNDED) == 1e-9


def test_a_run_ending_above_its_start_is_never_best():
    runs = synthetic(1.0, [5.0, 2.0, 3.0])  # every run climbs: the smallest gap must not win
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == -1
    runs = synthetic(1.0, [5.0, 0.9, 3.0])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == 1


def test_failed_runs_never_count():
    runs = synthetic(10.0, [0.0, 0.0, 1.0], status=[DIVERGED, ESCAPED, MOVING], stop=[5, 5, -1])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == 2
    runs = synthetic(10.0, [0.0, 0.0], status=[DIVERGED, ESCAPED], stop=[5, 5])
    assert criteria.choose_best(runs, BOUNDED, 1e-6) == -1


def test_an_escape_that_flips_the_sign_of_f_is_an_overshoot():
    # Leaving from f = 5750 to f = −368050 (Newton's θ ← −4θ) against sliding from −172 to −513 (SGD).
    runs = synthetic(1.4, [-368050.0, -513.0], before=[5750.0, -172.0], status=[ESCAPED] * 2, stop=[2, 2],
                     minimum=None)
    assert list(criteria.escapes(runs)) == [False, True]
    assert criteria.choose_best(runs, SADDLE, 1e-6) == 1


def test_the_fastest_escape_wins_and_ties_go_to_the_smaller_lr():
    runs = synthetic(3.0, [-500.0, -600.0, -700.0], before=[-100.0] * 3, status=[ESCAPED] * 3, stop=[30, 9, 9],
                     minimum=None)
    assert criteria.choose_best(runs, SADDLE, 1e-6) == 1


def test_an_uphill_escape_is_no_escape():
    runs = synthetic(3.0, [400.0, -1.0], before=[100.0, -0.5], status=[ESCAPED, MOVING], stop=[2, -1],
                     minimum=None)
    assert not criteria.escapes(runs).any()
    assert criteria.choose_best(runs, SADDLE, 1e-6) == 1  # no escape: the lowest final value that stayed


def test_without_an_escape_the_lowest_final_value_wins_ties_to_the_smaller_lr():
    runs = synthetic(3.0, [1.0, 1e-20, 0.0, 2.0, -9e5], before=[2.0, 1.0, 1.0, 2.0, 7.0],
                     status=[MOVING, STALLED, STALLED, MOVING, ESCAPED], stop=[-1, -1, -1, -1, 2], minimum=None)
    assert criteria.choose_best(runs, SADDLE, 1e-6) == 1  # the overshoot's −9e5 does not count
    runs = synthetic(3.0, [4.0, 5.0], minimum=None)
    assert criteria.choose_best(runs, SADDLE, 1e-6) == -1


def test_left_downhill_works_elementwise_without_paths():
    """The lr maps keep no paths: the test takes plain values."""
    got = criteria.left_downhill([ESCAPED, ESCAPED, ESCAPED, MOVING], 1.0, [-2.0, 3.0, 3.0, -2.0],
                                 [-50.0, -50.0, 50.0, -50.0])
    assert list(got) == [True, False, False, False]

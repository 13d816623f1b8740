"""The learning-rate search, the control runs and their badges, and the public API reproducing the sweep's runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gallery_builder import engine, functions, results, sweep, trajectory
from gallery_builder.config import Settings

# The default search and horizons; no noisy runs and one schedule, to keep each cell to a second or two.
QUICK = dataclasses.replace(Settings(), noise_seeds=0, schedules=("cosine",), basin_grid=3)


def names(cell) -> list:
    return [b.name for b in results.badges(cell)]


def test_adamws_decay_does_the_work_on_matyas_and_adams_rule_does_not_depend_on_the_origin():
    """AdamW converges in 15 steps at lr 100 because its decay pulls θ to the origin, where Matyas has its
    minimizer: moved off the origin, the same run leaves the domain. Adam's rule reads no θ: no badge."""
    adamw, adam = (sweep.compute_cell(name, "matyas", QUICK) for name in ("adamw", "adam"))
    assert adamw.runs.steps_to_tolerance[adamw.best] == 15 and adamw.lrs[adamw.best] == pytest.approx(100)
    assert adamw.controls.shifted.steps_to_tolerance[0] < 0
    assert "origin pull" in names(adamw)
    assert "origin pull" not in names(adam)
    shifted = functions.shifted("matyas")
    assert shifted.values(np.array(shifted.minimizers)) == pytest.approx([0.0], abs=1e-15)
    np.testing.assert_allclose(np.subtract(shifted.start, functions.get("matyas").start),
                               np.subtract(shifted.minimizers[0], functions.get("matyas").minimizers[0]))


def test_signums_exact_minimum_on_the_ill_conditioned_bowl_is_a_lattice_artefact():
    """The start is a whole multiple of Signum's step: the run lands on the minimizer exactly; from a start moved
    by a thousandth of the domain it does not."""
    cell = sweep.compute_cell("signum", "ill_conditioned", QUICK)
    i = cell.best
    nudged = cell.controls.nudged
    assert abs(cell.runs.gap[i]) < 1e-20 and abs(nudged.gap[0]) > 10 * engine.TOLERANCE
    assert "lattice" in names(cell)


def test_rprops_schedules_are_inert_and_polyak_knows_f_star():
    rprop = sweep.compute_cell("rprop", "himmelblau", QUICK)
    assert rprop.controls.inert_schedules == ("cosine",)
    np.testing.assert_array_equal(rprop.schedules["cosine"].runs.points, rprop.runs.points)
    assert "inert setting" in names(rprop)
    sgd = sweep.compute_cell("sgd", "himmelblau", QUICK)
    assert sgd.controls.inert_schedules == () and not sgd.controls.same_as_neighbour
    assert "inert setting" not in names(sgd) and "knows f*" not in names(sgd)
    polyak = sweep.compute_cell("polyak_sgd", "himmelblau", QUICK)
    assert "knows f*" in names(polyak)


def test_the_noisy_runs_at_half_and_twice_sigma_show_how_the_gap_scales():
    """SGD on Booth: the σ row repeats the noisy sweep's runs at its chosen lr, bit for bit, and the median gap
    grows with σ, though by less than σ² (at the chosen lr the start is not forgotten: the gap is part noise, part
    the exact run's residual, which is why the scaling has to be measured)."""
    cell = sweep.compute_cell("sgd", "booth", dataclasses.replace(QUICK, noise_seeds=8, schedules=()))
    noisy = cell.noisy
    np.testing.assert_array_equal(noisy.scaled_gap[1], noisy.gap[noisy.chosen])
    medians = results.noise_scaling(cell)
    assert list(medians) == [0.5, 1.0, 2.0]
    assert medians[0.5] < medians[1.0] < medians[2.0] < 4 * medians[1.0]


SMALL = Settings(optimizers=("sgd", "adam", "polyak_sgd", "rprop", "lbfgs", "newton"),
                 functions=("mccormick", "styblinski_tang", "saddle"), steps=60, basin_grid=3, lr_per_decade=2,
                 lr_decades_below=1, lr_decades_above=1, lr_limit_below=3, lr_limit_above=3, noise_seeds=0)


def test_trajectory_reproduces_every_cells_shown_run():
    """The public API gives Polyak's step the function's f* as the sweep does (McCormick: f* = −1.91)."""
    for fn_name in SMALL.functions:
        for name, cell in sweep.compute_cells(fn_name, [o for o, f in sweep.cell_pairs(SMALL) if f == fn_name],
                                              SMALL).items():
            i = cell.chosen
            hyper = {k: v for k, v in cell.hyperparameters.items() if k not in ("lr", "f_min")}
            run = trajectory(name, fn_name, start=cell.start, steps=60, lr=float(cell.lrs[i]), **hyper)
            np.testing.assert_array_equal(run.points, cell.runs.points[i], err_msg=f"{name} on {fn_name}")


def test_no_rate_within_the_limits_ends_ten_times_closer_than_the_chosen_one(default_site):
    """Issue 24: a search that stopped at an interior local optimum left 16 of 129 cells with a rate ending 10×
    closer. Every cell of the default gallery, over every rate its search ran."""
    settings = Settings()
    report = sweep.run_sweep(settings, jobs=1, cache_dir=default_site / ".cache", quiet=True)
    assert report.computed == 0
    closer = []
    for (optimizer, function), cell in report.cells.items():
        fn = functions.get(function)
        if fn.minimum is None or cell.best < 0:
            continue
        search = cell.search
        np.testing.assert_array_equal(search.lrs, sweep.lr_grid(cell.hyperparameters["lr"], settings))
        usable = ~engine.is_failure(search.status, fn) & (search.final_value <= fn.values(np.asarray(cell.start)))
        gaps = np.maximum(np.abs(search.gap[usable]), settings.tolerance)
        chosen = max(abs(float(cell.runs.gap[cell.best])), settings.tolerance)
        if len(gaps) and gaps.min() * 10 < chosen:
            closer.append((optimizer, function, float(cell.lrs[cell.best]), chosen, float(gaps.min())))
    assert closer == []

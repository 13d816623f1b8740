"""The state figure: what it draws is the optimizer's own recorded state, at the step the slider shows."""

from __future__ import annotations

import base64
import re
import dataclasses

import numpy as np
import pytest

from gallery_builder import carried, config, downloads, embeds, figures, functions, optimizers, sweep

SETTINGS = config.parse({"sweep": {"optimizers": ["sgd", "momentum", "adam", "newton"],
                                   "functions": ["ill_conditioned", "himmelblau"], "steps": 40, "basin_grid": 3,
                                   "learning_rates": {"per_decade": 1, "decades_below": 1, "decades_above": 1}}})


@pytest.fixture(scope="module")
def cells():
    return {**sweep.compute_cells("ill_conditioned", ["sgd", "momentum", "adam"], SETTINGS),
            "newton": sweep.compute_cell("newton", "himmelblau", SETTINGS)}


def decoded(spec) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), {"f4": "<f4", "f8": "<f8", "i2": "<i2"}[spec["dtype"]])


def traces(figure, name):
    return [(i, t) for i, t in enumerate(figure["data"]) if t.get("name") == name]


def test_the_lr_search_records_state_for_every_learning_rate(cells):
    runs = cells["adam"].runs
    assert set(runs.state) == {"exp_avg", "exp_avg_sq"}
    assert runs.state["exp_avg"].shape == (len(cells["adam"].lrs), runs.points.shape[1], 2)


def test_the_momentum_arrow_is_the_buffer_in_steps_from_each_point(cells):
    cell = cells["momentum"]
    figure = figures.state(cell)
    (index, trace), = traces(figure, "−lr·b")
    i, last = cell.chosen, int(cell.runs.last[cell.chosen])
    segments = np.stack([decoded(figure["animate"]["full"][index][a]) for a in "xy"], axis=1).reshape(-1, 2, 2)
    points = cell.runs.points[i, : last + 1]
    buffer = cell.runs.state["momentum_buffer"][i, : last + 1]
    assert figure["animate"]["window"][index] == 2 and len(segments) == last + 1
    np.testing.assert_allclose(segments[:, 0], points, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(segments[:, 1] - segments[:, 0], -cell.lrs[i] * buffer, rtol=1e-4, atol=1e-6)
    # Heavy ball: the buffer in steps is exactly the step just taken.
    np.testing.assert_allclose(-cell.lrs[i] * buffer[1:], np.diff(points, axis=0), rtol=1e-9, atol=1e-12)
    # The figure opens at the last step: only that step's arrow is drawn until the slider moves.
    np.testing.assert_allclose(decoded(trace["x"]), segments[-1, :, 0], rtol=1e-6)


def test_adams_panels_are_its_bias_corrected_moments_and_effective_step(cells):
    cell = cells["adam"]
    figure = figures.state(cell)
    i, last = cell.chosen, int(cell.runs.last[cell.chosen])
    lr, hyper = cell.lrs[i], cell.hyperparameters
    t = np.arange(1, last + 1)
    m = cell.runs.state["exp_avg"][i, 1: last + 1, 0] / (1 - hyper["beta1"] ** t)
    v = cell.runs.state["exp_avg_sq"][i, 1: last + 1, 1] / (1 - hyper["beta2"] ** t)
    for name, expected in (("m̂ x", m), ("√v̂ y", np.sqrt(v)), ("lr/(√v̂+ε) y", lr / (np.sqrt(v) + hyper["eps"]))):
        (_, trace), = traces(figure, name)
        np.testing.assert_array_equal(decoded(trace["x"]), t)  # step 0 has no bias-corrected value
        np.testing.assert_allclose(decoded(trace["y"]), expected, rtol=1e-6)
    # Adam's step in each coordinate is lr·m̂/(√v̂+ε): the panels reproduce the path.
    step = -lr * m / (np.sqrt(cell.runs.state["exp_avg_sq"][i, 1: last + 1, 0] / (1 - hyper["beta2"] ** t))
                      + hyper["eps"])
    np.testing.assert_allclose(step, np.diff(cell.runs.points[i, : last + 1, 0]), rtol=1e-9, atol=1e-12)


def test_newtons_directions_are_the_hessians_eigenvectors_at_each_point(cells):
    cell = cells["newton"]
    figure = figures.state(cell)
    i, last = cell.chosen, int(cell.runs.last[cell.chosen])
    points = cell.runs.points[i, : last + 1]
    _, hessians = functions.get("himmelblau").hessian(points)
    for k, name in enumerate(("eigen-direction λ₁", "eigen-direction λ₂")):
        (index, _), = traces(figure, name)
        ends = np.stack([decoded(figure["animate"]["full"][index][a]) for a in "xy"], axis=1).reshape(-1, 2, 2)
        direction = ends[:, 1] - ends[:, 0]
        np.testing.assert_allclose((ends[:, 0] + ends[:, 1]) / 2, points, atol=1e-5)  # centred on the point
        eigenvalues = np.linalg.eigvalsh(hessians)[:, k]
        residual = np.einsum("bij,bj->bi", hessians, direction) - eigenvalues[:, None] * direction
        assert np.abs(residual).max() <= 1e-4 * np.abs(hessians).max() * np.abs(direction).max()
    (_, lowest), = traces(figure, "λ₁")
    np.testing.assert_allclose(decoded(lowest["y"]), np.linalg.eigvalsh(hessians)[:, 0], rtol=1e-6)


def test_a_state_field_nobody_described_still_gets_a_panel(cells, monkeypatch):
    """An optimizer registered without views (here momentum, its views taken away) shows every recorded field."""
    monkeypatch.setitem(optimizers.CATALOGUE, "momentum", dataclasses.replace(optimizers.get("momentum"), views=None))
    cell = cells["momentum"]
    extra = cell.runs.state["momentum_buffer"][..., :1] * 3
    runs = dataclasses.replace(cell.runs, state={**cell.runs.state, "novel_accumulator": extra})
    figure = figures.state(dataclasses.replace(cell, runs=runs))
    (_, trace), = traces(figure, "novel_accumulator")
    last = int(cell.runs.last[cell.chosen])
    np.testing.assert_allclose(decoded(trace["y"]), extra[cell.chosen, : last + 1, 0], rtol=1e-6)


def test_optimizers_without_state_get_no_state_figure_and_the_download_holds_the_state(cells):
    kind = embeds.KINDS["state"]
    assert not kind.applies(cells["sgd"]) and kind.applies(cells["momentum"]) and kind.applies(cells["newton"])
    record = downloads.plain(kind.data(cells["adam"], SETTINGS))
    last = int(cells["adam"].runs.last[cells["adam"].chosen])
    assert len(record["state"]["exp_avg_sq"]) == last + 1 == len(record["path"]["rows"])
    assert record["state"]["exp_avg_sq"][0] == [0.0, 0.0]
    drawn = {d["name"]: d for d in record["drawn"]}
    assert drawn["m̂"]["rows"][0] == [None, None] and drawn["m̂"]["reads"] == ["exp_avg"]
    assert embeds.html(kind.figure(cells["adam"]), kind.title(cells["adam"]), "a") == \
        embeds.html(kind.figure(cells["adam"]), kind.title(cells["adam"]), "a")


def test_a_gradient_point_is_drawn_as_its_own_path(cells):
    """Schedule-free's y (recorded by the engine as gradient_point) is a trace of its own on the contour."""
    cell = cells["momentum"]
    y = cell.runs.points + 0.25
    runs = dataclasses.replace(cell.runs, state={**cell.runs.state, "gradient_point": y})
    figure = figures.state(dataclasses.replace(cell, runs=runs))
    (index, trace), = traces(figure, "gradient point y")
    last = int(cell.runs.last[cell.chosen])
    assert "xaxis" not in trace and index in figure["animate"]["traces"]
    np.testing.assert_allclose(decoded(trace["x"]), y[cell.chosen, : last + 1, 0], rtol=1e-6)


# --- Every optimizer's registered views ----------------------------------------------------------------------------

ALL = config.parse({"sweep": {"functions": ["rosenbrock", "himmelblau"], "steps": 60, "basin_grid": 2,
                              "learning_rates": {"per_decade": 1, "decades_below": 1, "decades_above": 1}}})


@pytest.fixture(scope="module")
def every_cell():
    """Every optimizer of the catalogue on two functions, 60 steps."""
    return {(name, function): cell for function in ("rosenbrock", "himmelblau")
            for name, cell in sweep.compute_cells(function, list(optimizers.CATALOGUE), ALL).items()}


# English words that are also field names; any other field name in a meaning is code, not words.
WORDS = {"sum"}


def test_every_optimizer_registers_its_views_with_meanings_in_words(every_cell):
    assert all(opt.views is not None for opt in optimizers.CATALOGUE.values())
    for (name, function), cell in every_cell.items():
        fields = {f for f in cell.runs.state if len(f) > 1} - WORDS
        for view in carried.views(name, cell.runs.state):
            words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", f"{view.name} {view.meaning}"))
            assert not words & fields, (name, view.name, words & fields)
            assert "as recorded" not in view.meaning and "does not describe" not in view.meaning, name
            assert len(view.meaning.split()) >= 8, (name, view.name)  # a sentence, not a label


def test_every_panel_is_drawn_on_a_fitting_axis(every_cell):
    """A panel whose values are positive and span more than two decades is on a log axis; a panel with a
    negative value is not. Every panel draws something on a run that took steps."""
    for (name, function), cell in every_cell.items():
        i = cell.chosen
        for view, values in carried.carried(cell, i):
            if not isinstance(view, carried.Panel):
                continue
            finite = values[np.isfinite(values)]
            assert finite.size, (name, function, view.name)
            if view.log:
                assert (finite > 0).any(), (name, view.name)
            elif (finite > 0).all() and "negative" not in view.meaning:  # a signed quantity stays linear
                assert finite.max() <= 100 * finite.min(), (name, function, view.name)
            assert len(view.coordinates) == values.shape[1] or values.shape[1] == 2, (name, view.name)


def test_lamb_trust_ratio_and_polyak_step_reproduce_the_path(every_cell):
    """The drawn quantities are the ones the update used: LAMB's step has length lr·‖θ‖ (the trust ratio times
    ‖u‖), and Polyak's step is η·g."""
    cell = every_cell[("polyak_sgd", "himmelblau")]
    i, last = cell.chosen, int(cell.runs.last[cell.chosen])
    (_, values), = [(v, x) for v, x in carried.carried(cell, i) if v.name == "step size"]
    points = cell.runs.points[i, : last + 1]
    gradients = functions.get("himmelblau").gradient(points[:-1])
    np.testing.assert_allclose(-values[1:, :1] * gradients, np.diff(points, axis=0), rtol=1e-9, atol=1e-12)
    cell = every_cell[("lamb", "rosenbrock")]
    i, last = cell.chosen, int(cell.runs.last[cell.chosen])
    points = cell.runs.points[i, : last + 1]
    steps = np.hypot(*np.diff(points, axis=0).T)
    np.testing.assert_allclose(steps, cell.lrs[i] * np.hypot(*points[:-1].T), rtol=1e-9)


def test_lbfgs_memory_measures_the_curvature_of_a_quadratic():
    """On Booth (a quadratic) the curvature L-BFGS's memory stores along a step is the true one along it."""
    settings = config.parse({"sweep": {"functions": ["booth"], "steps": 10, "basin_grid": 2,
                                       "learning_rates": {"per_decade": 1, "decades_below": 0, "decades_above": 0}}})
    cell = sweep.compute_cell("lbfgs", "booth", settings)
    (_, values), = [(v, x) for v, x in carried.carried(cell, cell.chosen) if v.name == "curvature"]
    stored = np.isfinite(values).all(axis=1)
    assert stored.sum() >= 2
    np.testing.assert_allclose(values[stored, 0], values[stored, 1], rtol=1e-9)


def test_memory_is_counted_from_the_state():
    counts = {name: carried.memory(name)["copies"] for name in optimizers.CATALOGUE}
    assert counts["sgd"] == 0 and counts["momentum"] == 1 and counts["adam"] == 2 and counts["amsgrad"] == 3
    assert counts["adan"] == 4 and counts["prodigy"] == 4 and counts["rmsprop"] == 1
    assert "200 more copies" in carried.memory("lbfgs")["note"]

"""The figure keys: what each figure file's key covers, found from the code that writes it (fingerprints.py).
In-process and fast; tests/test_incremental.py checks the outcome on real builds."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from gallery_builder import build, config, embeds, fingerprints, functions, optimizers

SETTINGS = config.parse({"sweep": {"optimizers": ["momentum", "adam"], "functions": ["booth", "himmelblau"]}})
PAIRS = [(o, f) for o in SETTINGS.optimizers for f in SETTINGS.functions]


def keys(settings=SETTINGS) -> dict:
    """(kind, names) -> key for every kind over stand-in cells (a key reads only their names and cell keys)."""
    cells = {pair: SimpleNamespace(optimizer=pair[0], function=pair[1]) for pair in PAIRS}
    figure_keys = fingerprints.FigureKeys(settings, {pair: "-".join(pair) for pair in PAIRS}, build._produce,
                                          "../assets")
    subjects = [(kind, (o, f), cells[(o, f)]) for kind in embeds.KINDS.values() if kind.scope == embeds.CELL
                for o, f in PAIRS]
    subjects += [(kind, (f,), embeds.row(f, settings.optimizers, cells)) for kind in embeds.KINDS.values()
                 if kind.scope == embeds.FUNCTION for f in settings.functions]
    return {(kind.name, names): figure_keys.key(kind, subject) for kind, names, subject in subjects}


@pytest.fixture(scope="module")
def before() -> dict:
    return keys()


def changed(before: dict, after: dict) -> set:
    return {which for which in before if before[which] != after[which]}


def test_keys_are_stable_and_distinct(before):
    assert keys() == before
    assert len(set(before.values())) == len(before)


def test_a_title_rekeys_the_optimizers_figures_and_its_functions_rows(before, monkeypatch):
    monkeypatch.setitem(optimizers.CATALOGUE, "momentum",
                        dataclasses.replace(optimizers.get("momentum"), title="Heavy ball"))
    stale = changed(before, keys())
    cell_figures = {which for which in before if len(which[1]) == 2}
    assert {w for w in cell_figures if w[1][0] == "momentum"} <= stale
    assert not {w for w in stale & cell_figures if w[1][0] == "adam"}
    assert ("race", ("booth",)) in stale  # its legend names every optimizer


def test_a_summary_rekeys_nothing(before, monkeypatch):
    """No figure prints an optimizer's summary: editing it remakes no file."""
    monkeypatch.setitem(optimizers.CATALOGUE, "momentum",
                        dataclasses.replace(optimizers.get("momentum"), summary="Another summary."))
    assert not changed(before, keys())


def test_a_function_title_rekeys_its_figures_only(before, monkeypatch):
    monkeypatch.setitem(functions.CATALOGUE, "booth", dataclasses.replace(functions.get("booth"), title="Booth!"))
    stale = changed(before, keys())
    assert stale and all(names[-1] == "booth" for _, names in stale)
    assert ("surface", ("booth",)) in stale


def test_a_setting_that_downloads_print_rekeys_them(before):
    """The data downloads record every function's horizon, so a horizon rekeys the figures with data."""
    stale = changed(before, keys(dataclasses.replace(SETTINGS, steps=123)))
    assert {name for name, _ in stale} >= {kind.name for kind in embeds.KINDS.values() if kind.data is not None}
    assert not changed(before, keys(dataclasses.replace(SETTINGS, description="Another description.")))


def test_the_key_covers_the_code_and_files_a_figure_reads():
    """The pair figure's closure reaches figures.pair and what it calls in other modules, the state figure's the
    meanings of carried.py, and the vendored manifest that names the plotly.js bundle an embed loads."""
    kinds = embeds.KINDS
    pair = fingerprints.Closure([build._produce, kinds["pair"].figure],
                                fingerprints.imported_by("gallery_builder.embeds"), methods=True)
    names = {(entry[0], entry[1]) for entry in pair.found.values()}
    assert {("gallery_builder.figures", "pair"), ("gallery_builder.figures", "style"),
            ("gallery_builder.embeds", "_PAGE"), ("gallery_builder.embeds", "PLOTLY_VERSION")} <= names
    assert "assets/vendor/manifest.json" in fingerprints._files_named(pair.strings)


def edited_view(name: str, position: int, **changes):
    """Optimizer ``name`` with its view at ``position`` changed, as an edit of its registration makes it."""
    opt = optimizers.get(name)
    views = list(opt.views)
    views[position] = dataclasses.replace(views[position], **changes)
    return dataclasses.replace(opt, views=tuple(views))


def state_figures(names) -> set:
    return {which for which in names if which[0] == "state"}


def test_a_view_meaning_rekeys_that_optimizers_state_figures_only(before, monkeypatch):
    """A view is registered with its optimizer: editing momentum's meaning of its buffer remakes momentum's state
    figures (whose legend and download say it), nothing else."""
    monkeypatch.setitem(optimizers.CATALOGUE, "momentum", edited_view(
        "momentum", 1, meaning="the momentum buffer, a running sum of past gradients"))
    stale = changed(before, keys())
    assert stale == {("state", ("momentum", f)) for f in SETTINGS.functions}


def test_a_view_formula_rekeys_that_optimizers_state_figures_only(before, monkeypatch):
    """A view's formula counts with the values its builder captured: Adam's m̂ read from another field, with the
    same code, is another figure."""
    from gallery_builder.optimizers import views

    monkeypatch.setitem(optimizers.CATALOGUE, "adam", edited_view("adam", 0, values=views.corrected("exp_avg_sq",
                                                                                                    "beta1")))
    assert changed(before, keys()) == {("state", ("adam", f)) for f in SETTINGS.functions}


def test_a_look_rekeys_the_figures_that_draw_that_optimizer(before, monkeypatch):
    monkeypatch.setitem(optimizers.CATALOGUE, "adam", dataclasses.replace(
        optimizers.get("adam"), look=optimizers.Look("#436BCE", "longdash", "hexagon")))
    stale = changed(before, keys())
    assert ("pair", ("adam", "booth")) in stale and ("race", ("booth",)) in stale
    assert not {which for which in stale if len(which[1]) == 2 and which[1][0] == "momentum"}
    assert not {which for which in stale if which[0] in ("basins", "lrmap")}  # they do not draw its colour

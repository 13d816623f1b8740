"""Figures and embeds without a site: the figure-kind registry, the optimizers' looks and the keys that cover them."""

from __future__ import annotations

import base64
import colorsys
import dataclasses
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gallery_builder import build, config, downloads, embeds, figures, narrow, optimizers, sweep
from gallery_builder.engine import STATUSES
from gallery_builder.optimizers.looks import FALLBACK_DASHES, PALETTE, SYMBOLS

ROOT = Path(__file__).resolve().parents[1]
TINY = {"sweep": {"optimizers": ["sgd", "momentum"], "functions": ["booth", "saddle"], "steps": 12,
                  "basin_grid": 3, "learning_rates": {"per_decade": 1, "decades_below": 1, "decades_above": 1,
                                                            "limit_below": 1, "limit_above": 1}}}


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255


def luminance(colour: np.ndarray) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    linear = np.where(colour <= 0.04045, colour / 12.92, ((colour + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray, b: np.ndarray) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def material_slate_background() -> np.ndarray:
    """Material's dark page colour, computed from its installed stylesheets (hsla(var(--md-hue), S, L, 1))."""
    import material

    css = "".join(p.read_text() for p in (Path(material.__file__).parent / "templates" / "assets" / "stylesheets")
                  .glob("*.css"))
    hue = float(re.search(r"--md-hue:\s*(\d+(?:\.\d+)?)deg", css).group(1))
    s, l = map(float, re.search(r"--md-default-bg-color:\s*hsla\(var\(--md-hue\),\s*(\d+)%,\s*(\d+)%,\s*1\)",
                                css).groups())
    return np.array(colorsys.hls_to_rgb(hue / 360, l / 100, s / 100))


def looks() -> dict:
    names = [*optimizers.CATALOGUE, "an_optimizer_nobody_planned", "x", "sgd2"]
    return {name: figures.style(name) for name in names}


def test_every_optimizer_colour_reads_on_the_light_and_the_dark_page():
    slate = material_slate_background()
    # The embeds paint the same dark background themselves.
    hex_slate = "#" + "".join(f"{round(c * 255):02x}" for c in slate)
    assert hex_slate in (ROOT / "gallery_builder" / "assets" / "embed.js").read_text()
    assert hex_slate in embeds._PAGE
    colours = {look["color"] for look in looks().values()} | set(PALETTE)
    for colour in colours:
        assert contrast(rgb(colour), np.ones(3)) >= 3, colour
        assert contrast(rgb(colour), slate) >= 3, colour


def test_every_optimizer_has_a_look_of_its_own_besides_its_colour():
    """Colour-blind readers tell lines apart by dash pattern and marker even where two colours look alike."""
    # An optimizer registered without a look (a contributor's, as docs/add-your-own.md allows) gets a fallback dash
    # that no registered one uses.
    named = {name: figures.style(name) for name in optimizers.CATALOGUE}
    second_channel = [(look["dash"], look["symbol"]) for look in named.values()]
    assert len(set(second_channel)) == len(second_channel)
    for a, b in itertools.combinations(named.values(), 2):  # same pattern: different colours
        assert (a["dash"], a["color"]) != (b["dash"], b["color"])
    for name, look in looks().items():
        assert look["symbol"] in SYMBOLS and look["color"] in PALETTE
        registered = name in optimizers.CATALOGUE and optimizers.get(name).look is not None
        assert (look["dash"] in FALLBACK_DASHES) == (not registered)
        assert figures.style(name) == look  # a name always gets the same look


@pytest.mark.parametrize("look", [
    optimizers.Look("#8E8E8E", "dot", "bowtie"),  # a fallback's dash
    optimizers.Look("#123456", "longdash", "circle"),  # not in the palette
    ("#8E8E8E", "longdash", "circle"),  # not a Look
])
def test_a_look_outside_the_palette_is_refused_at_registration(look, monkeypatch):
    card = {f.name: getattr(optimizers.get("sgd"), f.name) for f in dataclasses.fields(optimizers.Optimizer)
            if f.name not in ("name", "factory", "look")}
    monkeypatch.setitem(optimizers.CATALOGUE, "sgd_again", None)  # so that the entry made goes when the test ends
    with pytest.raises(ValueError, match="look must be"):
        optimizers.optimizer("sgd_again", **card, look=look)(optimizers.get("sgd").factory)
    optimizers.optimizer("sgd_again", **card, look=optimizers.Look("#8E8E8E", "longdash", "circle"))(
        optimizers.get("sgd").factory)
    assert figures.style("sgd_again") == {"color": "#8E8E8E", "dash": "longdash", "symbol": "circle"}


@pytest.mark.parametrize("new, problem", [
    ({"a": optimizers.Look("#C24643", "solid", "pentagon")}, "its colour and dash with 'momentum'"),
    ({"a": optimizers.Look("#C24643", "longdash", "x"), "b": optimizers.Look("#D27730", "longdash", "x")},
     "'b'.*its dash and marker with 'a'"),
])
def test_a_look_too_close_to_a_registered_one_is_refused(new, problem):
    """The catalogue checks its looks once every family has registered (optimizers/__init__.py)."""
    registered = {name: entry.look for name, entry in optimizers.CATALOGUE.items()}
    optimizers.looks.check_apart(registered)
    with pytest.raises(ValueError, match=problem):
        optimizers.looks.check_apart({**registered, **new})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    settings = config.parse(TINY)
    report = sweep.run_sweep(settings, jobs=1, cache_dir=tmp_path_factory.mktemp("cache"), quiet=True)
    return settings, report


def test_a_colour_does_not_depend_on_the_order_of_the_optimizers(tiny):
    settings, report = tiny
    row = [report.cells[(o, "booth")] for o in settings.optimizers]
    fn = figures.functions.get("booth")

    def colours(figure):
        return {t["legendgroup"]: t["line"]["color"] for t in figure["data"] if t.get("mode") == "lines"}

    assert colours(figures.race(row, fn)) == colours(figures.race(row[::-1], fn))
    assert colours(figures.race(row, fn)) == {o: figures.style(o)["color"] for o in settings.optimizers}


def test_the_registry_makes_every_kind_for_every_subject_it_applies_to(tiny):
    settings, report = tiny
    assert {kind.scope for kind in embeds.KINDS.values()} == {embeds.CELL, embeds.FUNCTION}
    for kind in embeds.KINDS.values():
        found = embeds.subjects(kind, settings, report.cells)
        if kind.scope == embeds.CELL:
            expected = [pair for pair, cell in report.cells.items() if kind.applies is None or kind.applies(cell)]
        else:
            rows = [embeds.row(f, settings.optimizers, report.cells) for f in settings.functions]
            expected = [(r.fn.name,) for r in rows if kind.applies is None or kind.applies(r)]
        assert [names for names, _ in found] == expected
        for names, subject in found:
            assert kind.names(subject) == names
            figure = kind.figure(subject)
            assert figure["data"] and figure["layout"]["title"]["text"]
            page = embeds.html(figure, kind.title(subject), "../assets", kind.data and kind.data(subject, settings))
            assert f"<title>{kind.title(subject)}</title>" in page.replace("&#x27;", "'")
            assert ('id="figure-download"' in page) == (kind.data is not None)
            if kind.thumbnail is not None:
                assert kind.thumbnail(subject)[:8] == b"\x89PNG\r\n\x1a\n"
    # The learning-rate map only for optimizers with a second axis: momentum has one, plain SGD none.
    assert [names for names, _ in embeds.subjects(embeds.KINDS["lrmap"], settings, report.cells)] == [
        ("momentum", "booth"), ("momentum", "saddle")]


def test_changing_an_optimizers_colour_rewrites_exactly_the_files_that_draw_it(tiny, tmp_path, monkeypatch):
    settings, report = tiny
    docs = tmp_path / "docs"
    docs.mkdir()
    cache = tmp_path / "cache"
    build.build_gallery(settings, docs, jobs=1, quiet=True, cache_dir=cache)
    gallery = docs / "gallery"
    before = {p.relative_to(gallery): p.stat().st_ino for p in gallery.rglob("*") if p.is_file()}
    monkeypatch.setitem(optimizers.CATALOGUE, "sgd", dataclasses.replace(
        optimizers.get("sgd"), look=optimizers.Look("#018E8F", "dash", "star")))
    build.build_gallery(settings, docs, jobs=1, quiet=True, cache_dir=cache)
    after = {p.relative_to(gallery): p.stat().st_ino for p in gallery.rglob("*") if p.is_file()}
    assert set(after) == set(before)
    rewritten = {str(p) for p in after if after[p] != before[p] and p.suffix != ".md" and p.name != "manifest.json"}
    expected = {f"{folder}/{kind}--{names}{suffix}"
                for kind, folder, suffix, names in
                [("pair", "embeds", ".html", "sgd--booth"), ("pair", "embeds", ".html", "sgd--saddle"),
                 ("pair3d", "embeds", ".html", "sgd--booth"), ("pair3d", "embeds", ".html", "sgd--saddle"),
                 ("pair", "thumbs", ".png", "sgd--booth"), ("pair", "thumbs", ".png", "sgd--saddle"),
                 ("race", "embeds", ".html", "booth"), ("race", "embeds", ".html", "saddle"),
                 ("sensitivity", "embeds", ".html", "booth"), ("sensitivity", "embeds", ".html", "saddle"),
                 ("noise", "embeds", ".html", "sgd--booth"), ("noise", "embeds", ".html", "sgd--saddle"),
                 ("schedules", "embeds", ".html", "sgd--booth"), ("schedules", "embeds", ".html", "sgd--saddle"),
                 ("noise_race", "embeds", ".html", "booth"), ("noise_race", "embeds", ".html", "saddle"),
                 ("noise_sensitivity", "embeds", ".html", "booth")]}
    # Data, basin maps and surfaces do not show the colour: rebuilt or not, their bytes are the same.
    assert rewritten == expected
    packed = re.search(r'id="figure-data">(.*?)</script>', (gallery / "embeds" / "pair--sgd--booth.html").read_text())
    assert "#018E8F" in embeds.unpacked(packed.group(1))


# --- Fast paths that must write what the plain per-value code wrote ---------------------------------------------

EDGES = [0.0, -0.0, 1.0, -2.5, 0.1, 1e-5, 9.99999999995e-5, 123456.789012345, 999999999.94, 999999999.95, 1e9,
         1234567890.5, 123456789012.0, 1e15, 9999999999999998.0, 1e16, 1.5e300, 1e-300, 2.5e-310, 5e-324, -1e-320]


def decoded_column(column, count: int, figure: dict) -> np.ndarray:
    """A download column as the embed carries it (downloads.download), read back as embed.js reads it."""
    if isinstance(column, list):
        return np.array(column)
    if "from" in column:
        return column["from"] + np.arange(count)
    if "names" in column:
        return np.array(column["names"])[column["codes"]]
    if "tile" in column:
        return np.tile(decoded_column(column["tile"], count // column["times"], figure), column["times"])
    if "repeat" in column:
        return np.repeat(decoded_column(column["repeat"], count // column["times"], figure), column["times"])
    spec = figure["data"][column["ref"][0]][column["ref"][1]] if "ref" in column else column
    return np.frombuffer(base64.b64decode(spec["bdata"]), {"f4": "<f4", "f8": "<f8"}[spec["dtype"]])


def test_a_download_carries_each_number_once_at_float32(tiny):
    """The pair's download: the paths are the figure's own arrays, f a float32 column, steps their first number;
    learning rates exact."""
    settings, report = tiny
    kind, cell = embeds.KINDS["pair"], report.cells[("momentum", "booth")]
    figure = kind.figure(cell)
    carried = downloads.download(kind.data(cell, settings), figure)
    assert carried["runs"][0]["rows"]["og"] == int(cell.runs.last[0]) + 1
    for i, run in enumerate(carried["runs"]):
        rows, last = run["rows"], int(cell.runs.last[i])
        step, x, y, f = (decoded_column(c, rows["og"], figure) for c in rows["columns"])
        assert "ref" in rows["columns"][1] and "ref" in rows["columns"][2]  # drawn by the figure: not repeated
        np.testing.assert_array_equal(step, np.arange(last + 1))
        np.testing.assert_array_equal(x, cell.runs.points[i, : last + 1, 0].astype(np.float32))
        np.testing.assert_array_equal(y, cell.runs.points[i, : last + 1, 1].astype(np.float32))
        np.testing.assert_array_equal(f, cell.runs.values[i, : last + 1].astype(np.float32))
        assert run["lr"] == float(cell.lrs[i])
    assert len(carried["runs"]) == len(cell.lrs)
    # The basin map's starts are its axes tiled and repeated, their outcomes names by index.
    figure = figures.basins(cell)
    basins = downloads.download(downloads.basins_data(cell, settings), figure)["rows"]
    (xs, ys), count = cell.basin_axes, basins["og"]
    start_x, start_y, status = (decoded_column(c, count, figure) for c in basins["columns"][:3])
    assert "tile" in basins["columns"][0] and "repeat" in basins["columns"][1]
    np.testing.assert_array_equal(start_x, np.tile(xs, len(ys)).astype(np.float32))
    np.testing.assert_array_equal(start_y, np.repeat(ys, len(xs)).astype(np.float32))
    assert status.tolist() == [STATUSES[s] for s in cell.basin.status]


def test_seed_lines_round_to_3_digits_as_python_formats():
    rng = np.random.default_rng(1)
    values = np.concatenate([EDGES, -np.array(EDGES), rng.uniform(-10, 10, 3000), np.arange(-5000, 5000) * 0.0005,
                             rng.standard_normal(3000) * np.exp(rng.uniform(-60, 60, 3000))])
    got = figures._three_digits(values)
    assert [np.copysign(1, v) for v in got] == [np.copysign(1, v) for v in values]  # -0.0 stays -0.0
    assert got == [float(f"{v:.3g}") for v in values.tolist()]


def test_thumbnail_paths_sample_each_segment_as_linspace_does():
    from gallery_builder.thumbnails import _linspaces

    rng = np.random.default_rng(2)
    start, stop = rng.uniform(-300, 300, 500), rng.uniform(-300, 300, 500)
    stop[:50] = start[:50]  # zero-length segments
    counts = rng.integers(1, 40, 500)
    expected = np.concatenate([np.linspace(a, b, n) for a, b, n in zip(start, stop, counts)])
    np.testing.assert_array_equal(_linspaces(start, stop, counts), expected)


def test_clipping_many_segments_agrees_with_one_at_a_time():
    rng = np.random.default_rng(3)
    p0, p1 = rng.uniform(-3, 3, (400, 2)), rng.uniform(-3, 3, (400, 2))
    p1[:40, 0] = p0[:40, 0]  # vertical segments: no constraint from x, or none at all
    low, high = np.array([-1.0, -1.5]), np.array([1.0, 2.0])
    a, b, hit = figures.clip_segments(p0, p1, low, high)
    for k in range(len(p0)):
        inside = [p for p in np.linspace(p0[k], p1[k], 2001) if ((p >= low) & (p <= high)).all()]
        assert hit[k] == bool(inside)
        if len(inside) > 1:
            np.testing.assert_allclose([a[k], b[k]], [inside[0], inside[-1]], atol=0.01)


# --- The phone layout ------------------------------------------------------------------------------------------------

BANDS = [narrow.Plot(("xaxis", "yaxis"), narrow.SQUARE, below=48, nticks=4, tickangle=-90, parts={"yaxis": [0, 1]}),
         narrow.Scene("scene"), narrow.Slider(0, 64, buttons=0), narrow.ColourBar(0, 44, {"thickness": 10}),
         narrow.Note(0), narrow.Legend()]


def test_the_phone_layouts_keys_are_the_ones_embed_js_reads():
    """narrow.py is the schema of what embed.js lays out: every key a band writes is one the script reads."""
    script = (ROOT / "gallery_builder" / "assets" / "embed.js").read_text()
    read = set(re.findall(r"\bblock\.(\w+)", script))
    written = {key for band in BANDS for key in band.block()}
    assert written == read


@pytest.mark.parametrize("band, problem", [
    (narrow.Plot(("xaxis", "yaxis"), 0), "height"), (narrow.Plot(("xaxis", "yaxis"), "tall"), "height"),
    (narrow.Plot(("xaxis2", "yaxis2"), 100), "no axes"),
    (narrow.Plot(("xaxis", "yaxis"), 100, parts={"yaxis2": [0, 1]}), "parts"),
    (narrow.Slider(1, 64), "no such slider"), (narrow.Slider(0, 64, buttons=1), "no such buttons"),
    (narrow.ColourBar(1, 44, {}), "colour bar"), (narrow.Note(1), "annotation"), (narrow.Scene("scene2"), "scene2"),
    ({"legend": True}, "not a band"),
])
def test_a_band_the_figure_does_not_have_stops_the_build(band, problem):
    layout = {"xaxis": {}, "yaxis": {}, "scene": {}, "sliders": [{}], "updatemenus": [{}], "annotations": [{}]}
    data = [{"type": "heatmap", "colorbar": {}}, {"type": "scatter"}]
    assert narrow.stack(layout, data, *BANDS)["blocks"][0]["parts"] == {"yaxis": [0, 1]}
    with pytest.raises(ValueError, match=problem):
        narrow.stack(layout, data, band)


def test_a_way_into_the_playground_only_where_it_runs_the_cells_own_runs(tmp_path):
    """The playground takes lr and the second hyperparameter and the horizon: a cell whose other hyperparameters
    are at their defaults (Polyak's f* from the function) gets a link that carries those, one with another
    hyperparameter set in gallery.toml gets none, and its page no way into the playground."""
    sweep_table = {**TINY["sweep"], "optimizers": ["adam", "polyak_sgd"], "functions": ["booth"]}
    for overrides, linked in (({}, {"adam", "polyak_sgd"}), ({"adam": {"eps": 1e-6}}, {"polyak_sgd"})):
        settings = config.parse({"sweep": sweep_table, "optimizers": overrides})
        cells = sweep.run_sweep(settings, jobs=1, cache_dir=tmp_path / "cache", quiet=True).cells
        ways = {o: figures.playground(cells[(o, "booth")], lr=0.1) for o in settings.optimizers}
        assert {o for o, way in ways.items() if way} == linked
        second = {"adam": {"h2": 0.9}, "polyak_sgd": {}}  # β₁; Polyak's step has no second axis
        for o in linked:
            assert ways[o] == {"f": "booth", "o": o, **second[o], "n": 12, "lr": 0.1}
        basins = embeds.page(embeds.KINDS["basins"], cells[("adam", "booth")], settings, "../assets",
                             "../playground.html")
        assert ('data-playground="../playground.html"' in basins) == ("adam" in linked)

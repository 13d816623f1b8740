"""An optimizer that needs f* (Polyak's step): f_min comes from the function, and a function without a minimum has
no cell for it, which the sweep, the figures and the pages all cope with."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, main_cli, make_project, run_cli
from gallery_builder import config, embeds, extras, functions, optimizers, pages, sweep
from gallery_builder.errors import UserError

NO_CELL = "no cell: SGD with Polyak's step needs f\\*, and this function has no minimum"  # as md() escapes it
DOCS = ROOT / "docs"
TINY = config.Settings(optimizers=("sgd", "polyak_sgd"), functions=("saddle", "six_hump_camel"), steps=40,
                       lr_per_decade=1, lr_decades_below=1, lr_decades_above=1, lr_limit_below=1,
                       lr_limit_above=1, basin_grid=2)


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path_factory.mktemp("cache"), quiet=True).cells


def test_only_polyak_needs_the_minimum():
    assert [n for n, o in optimizers.CATALOGUE.items() if o.needs_minimum] == ["polyak_sgd"]
    polyak = optimizers.get("polyak_sgd")
    assert polyak.for_function(functions.get("six_hump_camel")) == {"f_min": functions.get("six_hump_camel").minimum}
    assert optimizers.get("adam").for_function(functions.get("saddle")) == {}
    with pytest.raises(UserError, match="saddle"):
        polyak.for_function(functions.get("saddle"))


def test_the_sweep_skips_the_pair_and_fills_f_min(cells):
    assert sweep.cell_pairs(TINY) == [("sgd", "saddle"), ("sgd", "six_hump_camel"), ("polyak_sgd", "six_hump_camel")]
    assert set(cells) == set(sweep.cell_pairs(TINY))
    camel = functions.get("six_hump_camel")
    assert cells[("polyak_sgd", "six_hump_camel")].hyperparameters["f_min"] == camel.minimum < 0


def test_function_figures_draw_only_existing_cells(cells):
    for kind in ("race", "sensitivity"):
        rows = dict(embeds.subjects(embeds.KINDS[kind], TINY, cells))
        assert [c.optimizer for c in rows[("saddle",)].cells] == ["sgd"]
        assert [c.optimizer for c in rows[("six_hump_camel",)].cells] == ["sgd", "polyak_sgd"]
    pair_names = [names for names, _ in embeds.subjects(embeds.KINDS["pair"], TINY, cells)]
    assert ("polyak_sgd", "saddle") not in pair_names and ("polyak_sgd", "six_hump_camel") in pair_names


def test_pages_say_why_there_is_no_cell(cells):
    out = pages.Renderer(TINY, cells, pages.Site(False), DOCS, extras.run_extras(TINY, cells, DOCS)).pages()
    saddle, opt_page, comparison = (out["gallery/functions/saddle.md"], out["gallery/optimizers/polyak_sgd.md"],
                                    out["gallery/comparison.md"])
    assert NO_CELL in saddle and NO_CELL in opt_page and NO_CELL in comparison
    assert "pair--polyak_sgd--saddle" not in saddle + opt_page + comparison + out["gallery/index.md"]
    assert "basins--polyak_sgd--saddle" not in saddle
    assert "pair--polyak_sgd--six_hump_camel" in opt_page and NO_CELL not in out["gallery/functions/six_hump_camel.md"]


def test_run_fills_f_min_and_refuses_a_function_without_a_minimum(tmp_path):
    result = main_cli("run", "--optimizer", "polyak_sgd", "--function", "six_hump_camel", "--steps", "3",
                      "--format", "json", cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hyperparameters"]["f_min"] == functions.get("six_hump_camel").minimum
    result = main_cli("run", "--optimizer", "polyak_sgd", "--function", "saddle", cwd=tmp_path,
                      cache=tmp_path / "cache")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "has none" in result.stderr


def test_settings_cannot_set_f_min(tmp_path):
    (tmp_path / "gallery.toml").write_text("[optimizers.polyak_sgd]\nf_min = 1.0\n")
    with pytest.raises(UserError, match="f_min"):
        config.load(tmp_path / "gallery.toml")
    (tmp_path / "gallery.toml").write_text("[optimizers.polyak_sgd]\nscaling = 0.5\n")
    assert config.load(tmp_path / "gallery.toml").hyper("polyak_sgd")["scaling"] == 0.5


@pytest.mark.slow
def test_a_gallery_with_polyak_and_the_saddle_builds(tmp_path):
    project = make_project(tmp_path / "project", """
[sweep]
optimizers = ["sgd", "polyak_sgd"]
functions = ["saddle", "booth"]
steps = 30
basin_grid = 3

[sweep.learning_rates]
per_decade = 1
decades_below = 1
decades_above = 1
""")
    result = run_cli("build", "--site", "--quiet", cwd=project, cache=project / ".cache")
    assert result.returncode == 0, result.stderr
    gallery, site = project / "docs" / "gallery", project / "site"
    assert (gallery / "embeds" / "pair--polyak_sgd--booth.html").is_file()
    assert not (gallery / "embeds" / "pair--polyak_sgd--saddle.html").exists()
    assert "no cell: SGD with Polyak" in (site / "gallery" / "functions" / "saddle.html").read_text()

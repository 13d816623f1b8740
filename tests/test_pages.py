"""Generated Markdown, rendered in-process from a tiny sweep: the rendering defects of issue 9 and the explanations
filled in from runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from gallery_builder import config, pages, sweep
from gallery_builder.errors import UserError

DOCS = Path(__file__).resolve().parents[1] / "docs"
TINY = config.Settings(optimizers=("sgd", "newton"), functions=("saddle", "himmelblau", "booth"), steps=60,
                       lr_per_decade=1, lr_decades_below=1, lr_decades_above=2, lr_limit_below=1,
                       lr_limit_above=2, basin_grid=2)


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path_factory.mktemp("cache"), quiet=True).cells


def render(cells, docs_dir=DOCS):
    return pages.Renderer(TINY, cells, pages.Site(False), docs_dir).pages()


def test_start_and_bounded_below_are_separate_list_items(cells):
    text = render(cells)["gallery/functions/booth.md"]
    assert re.search(r"^- \*\*Start:\*\* \(-8\.0, -8\.0\)$", text, re.M)
    assert re.search(r"^- \*\*Bounded below:\*\* yes$", text, re.M)


def test_gallery_summaries_end_in_one_full_stop(cells):
    text = render(cells)["gallery/comparison.md"]
    tables = text[text.index("## Optimizers"):]  # the tables under the matrix
    rows = [line for line in tables.splitlines() if line.startswith(("| [", "| !["))]
    assert len(rows) == 2 + 3  # optimizers and functions
    for row in rows:
        summary = row.split(" | ")[-2 if row.startswith("| [") else -1].rstrip(" |")
        assert summary.endswith(".") and not summary.endswith(".."), row


def test_newton_converges_in_one_step_in_the_singular(cells):
    pages_out = render(cells)
    assert "✓ 1 step]" in pages_out["gallery/comparison.md"]
    assert "1 steps" not in pages_out["gallery/comparison.md"] + pages_out["gallery/index.md"]


def test_an_apostrophe_in_an_embed_title_is_one_character_reference(cells):
    text = render(cells)["gallery/functions/booth.md"]
    assert 'data-title="Newton&#39;s method basins on Booth"' in text
    assert "&&" not in text


def test_explanations_are_filled_in_from_runs(cells):
    text = render(cells)["gallery/functions/saddle.md"]
    # SGD leaves the saddle at step 55 at lr 0.1, and Adam not within this build's 60 steps (it needs 139).
    assert "at `lr = 0.1`, SGD leaves at step 55 and Adam does not leave within 60 steps" in text
    assert "{{" not in text and "--8<--" not in text


def test_a_broken_explanation_is_one_line_naming_the_file(cells, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS / "explanations", docs / "explanations")
    (docs / "explanations" / "functions" / "booth.md").write_text('Booth: {{ run("sgd", "booth") }}\n')
    with pytest.raises(UserError, match=r"booth\.md: .*lr"):
        render(cells, docs)
    (docs / "explanations" / "functions" / "booth.md").write_text("Booth: {{ no_such_name }}\n")
    with pytest.raises(UserError, match=r"booth\.md: 'no_such_name' is undefined"):
        render(cells, docs)


def test_a_best_learning_rate_at_the_search_limit_says_so(cells):
    # SGD leaves the saddle sooner the larger its rate: in this build its best is 0.1, the limit of the search.
    out = render(cells)
    assert cells[("sgd", "saddle")].best == len(cells[("sgd", "saddle")].lrs) - 1
    assert re.search(r"^\| \[SGD\]\([^)]*\) \| 0\.1 \(at the search limit\) \| escaped \| 55 \|$",
                     out["gallery/functions/saddle.md"], re.M)
    assert ("At the best learning rate, lr &#61; 0.1, at the edge of the search (limit 2 decades above the "
            "default), SGD leaves the domain downhill at step 55") in out["gallery/optimizers/sgd.md"]
    newton = [line for line in out["gallery/functions/booth.md"].splitlines() if line.startswith("| [Newton")]
    assert len(newton) == 1 and "| 1 | converged |" in newton[0]  # bracketed: nothing said

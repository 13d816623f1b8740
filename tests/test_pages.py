"""Generated Markdown, rendered in-process from a tiny sweep: the rendering defects of issue 9 and the explanations
filled in from runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from gallery_builder import config, extras, pages, sweep
from gallery_builder.errors import UserError

DOCS = Path(__file__).resolve().parents[1] / "docs"
TINY = config.Settings(optimizers=("sgd", "newton"), functions=("saddle", "himmelblau", "booth"), steps=60,
                       lr_per_decade=1, lr_decades_below=1, lr_decades_above=2, lr_limit_below=1,
                       lr_limit_above=2, basin_grid=2)


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return sweep.run_sweep(TINY, jobs=1, cache_dir=tmp_path_factory.mktemp("cache"), quiet=True).cells


_EXTRAS = {}  # (cells, docs folder) -> the sweep's extra runs, computed once per folder


def render(cells, docs_dir=DOCS):
    """The pages as the build renders them: the sweep's extra runs first, then the render stage, which runs none."""
    key = (id(cells), str(docs_dir))
    if key not in _EXTRAS:
        _EXTRAS[key] = extras.run_extras(TINY, cells, docs_dir)
    found = _EXTRAS[key]
    return pages.Renderer(TINY, cells, pages.Site(False), docs_dir, found).pages()


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
    assert re.search(r"^\| \[SGD\]\([^)]*\) \| 0\.1 \(at the search limit\) \| escaped \| 55 \|[^|\n]*\|$",
                     out["gallery/functions/saddle.md"], re.M)
    assert ("At the best learning rate, lr &#61; 0.1, at the edge of the search (limit 2 decades above the "
            "default), SGD leaves the domain downhill at step 55") in out["gallery/optimizers/sgd.md"]
    newton = [line for line in out["gallery/functions/booth.md"].splitlines() if line.startswith("| [Newton")]
    assert len(newton) == 1 and "| 1 | converged |" in newton[0]  # bracketed: nothing said


# --- The scorecard: "which optimizer when", from the cells --------------------------------------------------------


def test_the_lr_window_is_the_stretch_around_the_best_rate_that_reaches_the_tolerance_or_comes_close(cells):
    from gallery_builder import functions, scorecard
    from gallery_builder.model import CONVERGED, is_failure

    checked = 0
    for (opt, name), cell in cells.items():
        fn = functions.get(name)
        if fn.minimum is None or cell.best < 0:
            continue
        runs = cell.search  # every rate searched, of which the cell's lrs are the shown window
        lrs = runs.lrs
        best = int(np.flatnonzero(lrs == cell.lrs[cell.best])[0])
        spacing = np.log10(lrs[1] / lrs[0])
        width = scorecard.lr_window(cell, fn)
        best_gap = max(abs(runs.gap[best]), 1e-16 * max(1, abs(fn.minimum)))

        def good(i):
            return (not is_failure(runs.status[i], fn)
                    and (runs.status[i] == CONVERGED or abs(runs.gap[i]) <= scorecard.WINDOW_FACTOR * best_gap))

        count = round(width / spacing)
        n = len(lrs)
        # A contiguous stretch of `count` rates that holds the best one, all qualifying, with none just outside.
        blocks = [lo for lo in range(best - count + 1, best + 1)
                  if lo >= 0 and lo + count <= n and all(good(k) for k in range(lo, lo + count))
                  and (lo == 0 or not good(lo - 1)) and (lo + count == n or not good(lo + count))]
        assert count >= 1 and len(blocks) == 1, (opt, name)
        checked += 1
    assert checked >= 2


def test_the_scorecard_counts_solved_functions_and_compares_noise_with_the_best(cells):
    from gallery_builder import functions, results, scorecard

    rows = {r.optimizer.name: r for r in scorecard.scorecard(cells, TINY.optimizers, TINY.functions)}
    bounded = [f for f in TINY.functions if functions.get(f).minimum is not None]
    for name, row in rows.items():
        converged = [f for f in bounded if results.outcome(cells[(name, f)]).startswith("converged")
                     and cells[(name, f)].best >= 0]
        assert row.scores["solved"].text == f"{len(converged)} of {len(bounded)}"
        share = row.scores["starts"]
        assert share.figure[0] == "basins" and share.figure[1] == name and share.figure[2] in bounded
        assert share.value == float(np.mean(cells[(name, share.figure[2])].basin.minimizer >= 0))
    # On every function the optimizer with the smallest median noisy gap is the yardstick: ×1.
    ratios = scorecard._noise_ratios({f: [cells[(o, f)] for o in TINY.optimizers] for f in bounded})
    for f in bounded:
        assert min(r for (o, g), r in ratios.items() if g == f) == 1.0


def test_the_scorecard_page_links_every_number_to_its_figure(cells):
    out = render(cells)
    page = out["gallery/scorecard.md"]
    table = [line for line in page.splitlines() if line.startswith("| [")]
    assert len(table) == len(TINY.optimizers)
    for line in table:
        numbers = line.split(" | ")[1:-1]
        assert len(numbers) == 7, line
        for cell in numbers:  # a link with its sort key, or a dash where nothing was measured
            linked = r"\[.+\]\(\S+\)\{ data-sort=\"[^\"]*\" title=\"[^\"]*\" \}"
            assert cell.strip(" |") == "–" or re.fullmatch(linked, cell.strip(" |")), cell
    assert "sensitivity--" in page and "basins--" in page and "What it supports, and what it does not" in page


def test_pages_open_on_a_function_with_a_minimum_and_keep_the_saddles_apart(cells):
    out = render(cells)
    opt_page = out["gallery/optimizers/sgd.md"]
    first_tab = re.search(r'^=== "(.+)"', opt_page, re.M).group(1)
    assert first_tab == "Himmelblau"  # not the saddle, which comes first in the settings
    assert opt_page.index("## On the saddles") > opt_page.index('=== "Booth"')
    assert opt_page.index('=== "Saddle"') > opt_page.index("## On the saddles")
    comparison = out["gallery/comparison.md"]
    header = next(line for line in comparison.splitlines() if line.startswith("| | ["))
    assert header.index("Himmelblau") < header.index("Saddle")
    assert 'data-default="himmelblau"' in out["gallery/index.md"]
    # The implementation shows the update rule; the helpers fold away under it.
    assert opt_page.index("??? note \"The helpers it calls\"") > opt_page.index("## Implementation")


BADGED = config.Settings(optimizers=("sgd", "polyak_sgd"), functions=("booth", "matyas"), steps=60, lr_per_decade=1,
                         lr_decades_below=1, lr_decades_above=2, lr_limit_below=1, lr_limit_above=2, basin_grid=2)


def test_badges_show_wherever_a_result_is_read(tmp_path):
    """The comparison matrix, each function's leaderboard, the gallery's cards and each optimizer's tab show the
    badges that results.badges finds on that cell (Polyak's step always knows f*), with their reasons."""
    from gallery_builder import functions, optimizers, results

    cells = sweep.run_sweep(BADGED, jobs=1, cache_dir=tmp_path, quiet=True).cells
    site = pages.Site(use_directory_urls=False)
    found = extras.run_extras(BADGED, cells, DOCS)
    out = pages.Renderer(BADGED, cells, site, DOCS, found).pages()
    comparison = out["gallery/comparison.md"].split("## Optimizers")[0]
    matrix = {line.split("|")[1]: line for line in comparison.splitlines() if line.startswith("| [")}
    shown = 0
    for (opt_name, fn_name), cell in cells.items():
        tags = results.badge_tags(results.badges(cell))
        title = optimizers.get(opt_name).title
        row = next(line for name, line in matrix.items() if f"[{title}]" in name)
        column = [c for c in row.split(" | ")][1 + list(BADGED.functions).index(fn_name)]
        assert re.findall(r'class="og-badge"[^>]*>([^<]+)<', column) == [tag for tag, _ in tags], (row, column)
        board = out[f"gallery/functions/{fn_name}.md"]
        board_row = next(line for line in board.splitlines() if line.startswith(f"| [{title}]") and "og-badge" in line
                         ) if tags else None
        tab = out[f"gallery/optimizers/{opt_name}.md"]
        card = out["gallery/index.md"].split(f'data-optimizer="{opt_name}" data-function="{fn_name}"')[1]
        card = card.split("</div>")[0]
        assert re.findall(r'class="og-badge"[^>]*>([^<]+)<', card) == [tag for tag, _ in tags]
        for tag, reasons in tags:
            assert f">{tag}</span>" in board_row
            assert f'<span class="og-badge">{tag}</span> This result rests on more than the update rule: ' in tab
        shown += len(tags)
    knows = results.badges(cells[("polyak_sgd", "booth")])
    assert any(b.name == "knows f*" and functions.get("booth").title not in b.reason for b in knows)
    assert shown >= 2  # Polyak's step on both functions at least

"""The playground page of the built test site, in Chromium under a sub-path: clicks, drags and taps set the start,
the URL reproduces a view, the "reproduce in Python" calls give the same runs, bad input shows a message, and it
works in dark mode and at 390 px with touch."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from gallery_builder import engine, functions
from gallery_builder.model import STATUSES
from gallery_builder.figures import fmt
from test_browser import (SUB_PATH, Visit, browser, figure_frame, navigate_instantly, server,  # noqa: F401  (fixtures)
                          swapped_in)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = "gallery/playground.html"


@pytest.fixture
def visit(browser, server):  # noqa: F811
    visits = []

    def make(**options):
        visits.append(Visit(browser, server[0]))
        if options:  # a context of its own: a phone, dark mode
            visits[-1].context.close()
            visits[-1].context = browser.new_context(**options)
            visits[-1].page = visits[-1].context.new_page()
            v = visits[-1]
            v.page.on("console", lambda m: m.type == "error" and v.problems.append(f"console: {m.text}"))
            v.page.on("pageerror", lambda e: v.problems.append(f"page error: {e}"))
            v.context.on("request", v._request)
        return visits[-1]

    yield make
    for v in visits:
        v.close()


def open_page(v, query=""):
    page = v.goto(PAGE + query)
    page.wait_for_function("window.ogPlayground && window.ogPlayground.ready")
    return page


def setting(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def js_runs(page) -> list:
    return page.evaluate("""() => window.ogPlayground.runs.map((r) => ({ status: r.status,
        points: Array.from(r.points).map((v) => Number.isFinite(v) ? v : null) }))""")


def map_pixel(page, x, y) -> tuple:
    """Where the data point (x, y) is on the screen."""
    return tuple(page.evaluate("""([x, y]) => { const m = document.querySelector(".og-pg-paths"), L = m._fullLayout;
        if (m.getBoundingClientRect().bottom > innerHeight || m.getBoundingClientRect().top < 0) m.scrollIntoView();
        const b = m.getBoundingClientRect();
        return [b.left + L.xaxis._offset + L.xaxis.d2p(x), b.top + L.yaxis._offset + L.yaxis.d2p(y)]; }""", [x, y]))


def no_nan_text(page):
    assert "NaN" not in page.inner_text("#og-playground")


def test_a_click_sets_the_start_and_a_drag_moves_it(visit):
    page = open_page(visit(), "?f=himmelblau&o=adam,sgd&lr=0.05,0.01")
    page.mouse.click(*map_pixel(page, 2.0, -1.0))
    s = setting(page)
    assert abs(float(s["x"]) - 2.0) < 0.05 and abs(float(s["y"]) + 1.0) < 0.05
    first = js_runs(page)[0]["points"][:2]
    assert first == [float(s["x"]), float(s["y"])]
    page.mouse.move(*map_pixel(page, float(s["x"]), float(s["y"])))
    page.mouse.down()
    page.mouse.move(*map_pixel(page, -3.0, 3.0), steps=5)
    page.mouse.up()
    s = setting(page)
    assert abs(float(s["x"]) + 3.0) < 0.05 and abs(float(s["y"]) - 3.0) < 0.05
    assert js_runs(page)[1]["points"][:2] == [float(s["x"]), float(s["y"])]
    assert page.input_value("input[aria-label='start x']") == s["x"]
    page.fill("input[aria-label='start y']", "2.5")  # or type it
    page.press("input[aria-label='start y']", "Enter")
    assert setting(page)["y"] == "2.5" and js_runs(page)[0]["points"][:2] == [float(s["x"]), 2.5]
    no_nan_text(page)


def test_a_shared_url_reproduces_the_view_and_python_gives_the_same_runs(visit):
    query = ("?f=booth&o=adam,momentum,polyak_sgd&lr=0.3,0.01,0.5&h2=0.8,0.95,&x=-6&y=4&n=200&k=120"
             "&s=warmup_cosine:warmup=20&sigma=0.5&seed=3")
    page = open_page(visit(), query)
    assert page.evaluate("window.ogPlayground.state.notes") == []
    assert setting(page) == {k: v[0] for k, v in parse_qs(query[1:]).items()}
    assert page.input_value("input[aria-label=step]") == "120"
    runs = js_runs(page)
    calls = page.inner_text(".og-pg-python code").splitlines()
    assert calls[0] == "from gallery_builder import trajectory"
    assert len(calls) == 4
    for line, run in zip(calls[1:], runs):
        python = eval(line, {"trajectory": engine.trajectory})  # the page's own line, as a reader would paste it
        js = np.array([np.nan if v is None else v for v in run["points"]]).reshape(-1, 2)
        np.testing.assert_allclose(js, python.points, rtol=1e-10, atol=1e-300)
        assert run["status"] == python.status
    again = open_page(visit(), "?" + urlparse(page.url).query)
    assert js_runs(again) == runs


BAD = {
    "?f=nope&o=adam": "unknown function",
    "?o=adam,bogus": "unknown optimizer",
    "?o=adam&lr=abc": "not a number > 0",
    "?o=adam&lr=1e9": "outside",
    "?f=booth&x=100&y=0": "outside the domain",
    "?x=1": "not two numbers",
    "?sigma=-1": "noise σ",
    "?seed=99": "seed 99 is outside",
    "?s=bogus": "unknown schedule",
    "?s=warmup_cosine:warmup=5000&n=100": "must fit",
    "?n=0": "steps 0 is outside",
    "?o=a,b,c,d,e,sgd": "unknown optimizer",
    "?o=sgd,adam,lion,lamb,yogi": "at most 4",
    "?f=saddle&o=polyak_sgd": "needs f*",
    "?%%%&lr=1e999&x=NaN&y=--&k=zz&h2=,x": "not",
}


def test_bad_input_shows_a_message_and_never_nan(visit):
    v = visit()
    for query, words in BAD.items():
        page = open_page(v, query)
        text = page.inner_text(".og-pg-message")
        assert words in text, (query, text)
        assert page.is_visible(".og-pg-message")
        no_nan_text(page)
    # the corrected setting is in the address: reloading it gives no message
    page = open_page(v, "?" + urlparse(page.url).query)
    assert page.inner_text(".og-pg-message") == "", page.url


def test_a_diverging_run_says_so_without_nan(visit):
    page = open_page(visit(), "?f=monkey_saddle&o=newton,sgd&x=0&y=0")  # Newton divides by a zero Hessian
    assert "diverged at step 1" in page.inner_text(".og-pg-status")
    no_nan_text(page)


def test_dark_mode_and_a_phone_with_touch(visit):
    page = open_page(visit(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                          color_scheme="dark"), "?f=matyas&o=adam,sgd")
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    font = page.evaluate("document.querySelector('.og-pg-paths')._fullLayout.font.color")
    fg = page.evaluate("getComputedStyle(document.body).getPropertyValue('--md-default-fg-color').trim()")
    assert font.replace(" ", "") == fg.replace(" ", "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.touchscreen.tap(*map_pixel(page, 5.0, -5.0))
    s = setting(page)
    assert abs(float(s["x"]) - 5.0) < 0.3 and abs(float(s["y"]) + 5.0) < 0.3
    page.tap("input[aria-label=step]")  # a tap on the step slider's rail moves it
    assert 0 < int(setting(page)["k"]) < int(s["n"])
    no_nan_text(page)


def test_play_runs_the_step_slider_to_the_end(visit):
    page = open_page(visit(), "?f=booth&o=adam&k=0")
    page.click("button[aria-label=play]")
    page.wait_for_function("document.querySelector('input[aria-label=step]').value === '300'")
    assert setting(page)["k"] == "300"


def test_the_learning_rate_slider_is_logarithmic_over_the_search_range(visit):
    page = open_page(visit(), "?f=booth&o=adam&lr=0.001")
    slider = "input[aria-label=lr]"
    low, high = float(page.get_attribute(slider, "min")), float(page.get_attribute(slider, "max"))
    assert (low, high) == pytest.approx((-8, 2))  # Adam's default 1e-3, five decades either side
    before = js_runs(page)[0]["points"]
    page.eval_on_selector(slider, "(s) => { s.value = -1; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("new URLSearchParams(location.search).get('lr') === '0.1'")
    assert "lr=0.1" in page.inner_text(".og-pg-python code")
    assert js_runs(page)[0]["points"] != before


def test_instant_navigation_sets_the_playground_up_and_the_palette_toggle_redraws_it(visit):
    v = visit()
    page = v.goto("gallery/index.html")
    navigate_instantly(page, "nav a[href$='playground.html']:visible", "**/gallery/playground.html*")
    page.wait_for_function("window.ogPlayground && window.ogPlayground.ready")
    assert swapped_in(page)  # Material swapped the page in and ran its scripts
    assert len(js_runs(page)) == 3, page.inner_text(".og-pg-message")
    light = page.evaluate("document.querySelector('.og-pg-paths')._fullLayout.font.color")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    page.wait_for_function(f"document.querySelector('.og-pg-paths')._fullLayout.font.color !== '{light}'")


def test_a_basin_cell_opens_the_playground_at_its_start(visit, small_site):
    """A click on a basin map's cell, in its frame on the function page, opens the playground in the top window at
    that start, with the map's optimizer, function, learning rate and horizon (the small site's 80 steps, not the
    function's own); the playground's run from there ends where the map's did."""
    from gallery_builder import config, sweep

    settings = config.load(small_site / "gallery.toml")
    cell = sweep.run_sweep(settings, jobs=1, cache_dir=small_site / ".cache", quiet=True).cells[("sgd", "himmelblau")]
    page = visit().goto("gallery/functions/himmelblau.html")
    frame = figure_frame(page, page.query_selector('.og-embed[data-src*="basins--sgd--himmelblau"]'))
    spec = frame.evaluate("""() => { const gd = document.getElementById('figure'), t = gd._fullData[0];
        return { xs: Array.from(t.x), ys: Array.from(t.y), title: gd.layout.title.text }; }""")
    x, y = spec["xs"][3], spec["ys"][6]  # a cell away from the start and the minima, whose markers would take the click
    inside = frame.evaluate("""([x, y]) => { const L = document.getElementById('figure')._fullLayout;
        return [L.xaxis._offset + L.xaxis.d2p(x), L.yaxis._offset + L.yaxis.d2p(y)]; }""", [x, y])
    box = page.query_selector('iframe.og-embed[data-src*="basins--sgd--himmelblau"]').bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + inside[0], box["y"] + inside[1])
    page.wait_for_function("window.ogPlayground && window.ogPlayground.ready")
    assert urlparse(page.url).path == f"/{SUB_PATH}/{PAGE}"
    s = setting(page)
    assert (s["f"], s["o"], float(s["x"]), float(s["y"])) == ("himmelblau", "sgd", x, y)
    assert spec["title"].endswith(f"basins at lr = {fmt(float(s['lr']))}")
    assert s["n"] == str(settings.steps) != str(functions.get("himmelblau").steps or config.DEFAULT_STEPS)
    run, ended = js_runs(page)[0], len(cell.basin_axes[0]) * 6 + 3  # row-major over ys, xs
    assert run["points"][:2] == [x, y] and (cell.basin_axes[0][3], cell.basin_axes[1][6]) == (x, y)
    shown = [v for v in run["points"] if v is not None]
    assert run["status"] == STATUSES[cell.basin.status[ended]]
    assert shown[-2:] == pytest.approx(list(cell.basin.final_point[ended]), rel=1e-12, abs=1e-12)
    assert page.input_value("input[aria-label='start x']") == s["x"]


def test_a_pair_figure_links_to_the_playground_at_its_learning_rate(visit):
    page = visit().goto("gallery/optimizers/momentum.html")
    embed = page.query_selector('.og-embed[data-src*="pair--momentum--rosenbrock"]')
    frame = figure_frame(page, embed)
    shown = frame.evaluate("""() => { const gd = document.getElementById('figure'), s = gd.layout.sliders[0];
        return { lrs: s.steps.map((step) => step.label), active: s.active }; }""")
    link = frame.query_selector(".og-playground-link")
    assert link.get_attribute("target") == "_top"
    query = parse_qs(urlparse(link.get_attribute("href")).query)
    assert (query["f"], query["o"], query["h2"], query["x"], query["y"], query["n"]) == (
        ["rosenbrock"], ["momentum"], ["0.9"], ["-1.2"], ["1"], ["80"])
    assert fmt(float(query["lr"][0])) == shown["lrs"][shown["active"]].rstrip("★")
    with page.expect_navigation():
        link.click()
    page.wait_for_function("window.ogPlayground && window.ogPlayground.ready")
    s = setting(page)
    assert (s["o"], s["lr"], s["h2"]) == ("momentum", query["lr"][0], "0.9")


def test_what_the_selected_optimizer_carries_is_drawn_on_the_map(visit):
    """Momentum's −lr·b arrow starts at the shown step's point and is −lr times its JS state's buffer there; moving
    the step moves it; schedule-free AdamW's z and y are paths of their own; the words name what is drawn."""
    page = open_page(visit(), "?f=himmelblau&o=momentum,schedule_free_adamw&lr=0.01,0.05&k=20")
    read = """() => { const m = document.querySelector(".og-pg-paths"), r = window.ogPlayground.runs[0];
        const k = window.ogPlayground.state.setting.step;
        return { arrows: m.layout.annotations, traces: m.data.length, point: [r.points[2 * k], r.points[2 * k + 1]],
                 buf: r.states[k].buf, words: document.querySelector(".og-pg-carried").innerText }; }"""
    for step in (20, 60):
        page.evaluate(f"""() => {{ const s = document.querySelector("input[aria-label='step']");
            s.value = {step}; s.dispatchEvent(new Event("input")); }}""")
        drawn = page.evaluate(read)
        (arrow,) = drawn["arrows"]
        assert [arrow["ax"], arrow["ay"]] == drawn["point"]
        assert [arrow["x"] - arrow["ax"], arrow["y"] - arrow["ay"]] == pytest.approx([-0.01 * b for b in drawn["buf"]])
        assert "−lr·b" in drawn["words"] and "momentum buffer" in drawn["words"]
    alone = drawn["traces"]
    page.locator("input[name=og-pg-sel]").nth(1).check()
    page.wait_for_function("window.ogPlayground.state.setting.selected === 1")
    drawn = page.evaluate("""() => { const m = document.querySelector(".og-pg-paths");
        return { arrows: (m.layout.annotations || []).length, traces: m.data.length,
                 words: document.querySelector(".og-pg-carried").innerText }; }""")
    assert drawn["arrows"] == 0 and drawn["traces"] == alone + 4  # z and y: a path and its end each
    assert "z (" in drawn["words"] and "gradient point y" in drawn["words"]
    no_nan_text(page)

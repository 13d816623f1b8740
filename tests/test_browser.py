"""The built site in a real browser: Debian's Chromium driven by Playwright, served under a sub-path on 127.0.0.1.

Required in CI (REQUIRE_BROWSER=1): a missing Chromium then fails instead of skipping.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import ROOT
from gallery_builder import functions
from test_site import figure_of

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
SUB_PATH = "optimizer-gallery"

if not CHROMIUM.exists():
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"{CHROMIUM} is required (REQUIRE_BROWSER is set): apt-get install -y chromium",
                    pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.sync_api")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(small_site, tmp_path_factory):
    """The output of mkdocs build, copied under /optimizer-gallery/ of a plain static server."""
    root = tmp_path_factory.mktemp("www")
    shutil.copytree(small_site / "site", root / SUB_PATH)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    # Deploying means setting site_url to where the site lives; Material's instant navigation only takes over
    # links listed in sitemap.xml, which names that URL. Here the site lives on a random local port.
    sitemap = root / SUB_PATH / "sitemap.xml"
    site_url = re.search(r"<loc>(.*?)index\.html</loc>", sitemap.read_text()).group(1)
    sitemap.write_text(sitemap.read_text().replace(site_url, f"{origin}/{SUB_PATH}/"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield origin, root / SUB_PATH
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


class Visit:
    """A page with everything it reports: console errors, page errors, requests to other origins."""

    def __init__(self, browser, origin, **options):
        self.origin, self.problems = origin, []
        self.context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.context.on("request", self._request)

    def _request(self, request):
        url = request.url
        if not url.startswith((self.origin + "/", "data:", "blob:", "about:")):
            self.problems.append(f"request to another origin: {url}")

    def goto(self, path: str):
        self.page.goto(f"{self.origin}/{SUB_PATH}/{path}", wait_until="load")
        return self.page

    def close(self):
        self.context.close()
        assert self.problems == []


@pytest.fixture
def visit(browser, server):
    visits = []

    def make(**options):
        visits.append(Visit(browser, server[0], **options))
        return visits[-1]

    yield make
    for v in visits:
        v.close()


def figure_frame(page, embed):
    """Scrolls an embed (its ``data-src``, or its element: the link, until gallery.js swaps in the iframe) into view
    and waits until its Plotly graph is drawn; returns its frame."""
    src = embed if isinstance(embed, str) else embed.get_attribute("data-src")
    page.locator(f'.og-embed[data-src="{src}"]').scroll_into_view_if_needed()  # the link, or the iframe it became
    iframe = page.wait_for_selector(f'iframe.og-embed[data-src="{src}"]', timeout=20_000)
    frame = iframe.content_frame()
    frame.wait_for_selector("#figure[data-ready=true]", timeout=20_000)
    drawn = frame.evaluate("""() => {
        const gd = document.getElementById('figure');
        return {layout: !!gd._fullLayout, width: gd._fullLayout ? gd._fullLayout.width : 0,
                svg: !!gd.querySelector('svg.main-svg'), gl: !!gd.querySelector('canvas')};
    }""")
    assert drawn["layout"] and (drawn["svg"] or drawn["gl"]), drawn
    assert drawn["width"] > 300, drawn  # drawn at the tab's real width, not at 0 while hidden
    return frame


def navigate_instantly(page, link: str, url: str) -> None:
    """Click the first visible ``link`` (a selector) and wait for ``url``, once Material has its sitemap.xml: its
    instant navigation takes over only links listed there. ``swapped_in`` then says whether it did."""
    page.wait_for_load_state("networkidle")
    page.evaluate("window.__notReloaded = true")
    page.locator(link).first.click()
    page.wait_for_url(url)


def swapped_in(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def visible_embeds(page) -> list:
    """The ``data-src`` of the page's embeds in its open tabs: iframes, and links that become iframes as they come
    near. Read in one step: an element handle may be detached by that swap before it could be asked."""
    return page.evaluate("""() => [...document.querySelectorAll('.og-embed')]
        .filter(e => { const r = e.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })
        .map(e => e.dataset.src)""")


def site_pages(site: Path) -> list:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                  if "embeds" not in p.parts and p.name != "404.html")


def typesets_its_math(page, path: str) -> None:
    """Every formula of the page is typeset once the first comes into view, without a KaTeX error."""
    math = page.locator(".arithmatex").count()
    if math:
        page.locator(".arithmatex:visible").first.scroll_into_view_if_needed()
        page.wait_for_function(f"document.querySelectorAll('.arithmatex .katex').length === {math}")
        assert page.locator(".katex-error").count() == 0, path


class Bundles:
    """Checks that each drawn embed's trace types are among those its Plotly bundle registers, and that each bundle
    registers exactly the types embeds.BUNDLES says it draws (read once per bundle)."""

    def __init__(self, site: Path):
        self.site, self.registered, self.checked = site, {}, set()

    def check(self, frame, name: str) -> None:
        from gallery_builder import embeds

        bundle = embeds.bundle(figure_of(self.site / "gallery" / "embeds" / name))
        if bundle not in self.registered:
            self.registered[bundle] = set(frame.evaluate("Object.keys(Plotly.PlotSchema.get().traces)"))
            assert self.registered[bundle] == embeds.BUNDLES[bundle], bundle
        types = frame.evaluate("[...new Set(document.getElementById('figure')._fullData.map(t => t.type))]")
        assert types and set(types) <= self.registered[bundle], (name, types)
        self.checked.add(name)


# The every-page tests run in shards (every third page), so that pytest-xdist's workers share them.
SHARDS = 3


def embed_name(src: str) -> str:
    return src.split("/")[-1].split("?")[0].split("#")[0]


def framed(page: Path) -> set:
    """The embed files a built page frames, read from its HTML."""
    return {embed_name(src) for src in re.findall(r'class="og-embed"[^>]*data-src="([^"]+)"', page.read_text())}


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_page_renders_every_embed_with_its_bundle_and_typesets_its_math(visit, server, shard):
    """Every page in one context, as a reader's tab (the bundles compile once): its math typeset, every embed of
    every tab drawn, by a bundle that has its trace types."""
    origin, site = server
    pages = site_pages(site)
    assert len(pages) >= 12
    bundles, mine = Bundles(site), pages[shard::SHARDS]
    v = visit()
    for path in mine:
        page = v.goto(path)
        typesets_its_math(page, path)
        page.evaluate("window.scrollTo(0, 0)")
        # The open tabs' embeds, then those of each content tab that was hidden at load.
        for label in [None, *page.query_selector_all(".tabbed-labels > label")]:
            if label is not None:
                label.click()
            for src in visible_embeds(page):
                frame = figure_frame(page, src)  # every showing drawn, at its page's width
                name = embed_name(src)
                if name not in bundles.checked:
                    bundles.check(frame, name)
        assert v.problems == [], path
    # All that the pages frame, but a viewer page's sections, which show only when its address names one.
    viewers = {name for path in mine if path.startswith("gallery/view/") for name in framed(site / path)}
    assert {name for path in mine for name in framed(site / path)} - viewers <= bundles.checked


def test_every_embed_that_no_page_shows_draws_alone_and_each_bundle_has_its_trace_types(visit, server):
    """The embed files no page frames (read from the pages' HTML), each opened alone; and one embed per Plotly
    bundle, whose bundle registers exactly the trace types embeds.BUNDLES says it draws."""
    from gallery_builder import embeds

    origin, site = server
    shown = {name for path in site_pages(site) for name in framed(site / path)}
    files = sorted(p.name for p in (site / "gallery" / "embeds").glob("*.html"))
    assert len(files) >= 40 and len(shown & set(files)) >= 30
    one_per_bundle = {embeds.bundle(figure_of(site / "gallery" / "embeds" / name)): name for name in files}
    bundles, v = Bundles(site), visit()
    for name in sorted((set(files) - shown) | set(one_per_bundle.values())):
        page = v.goto(f"gallery/embeds/{name}")
        page.wait_for_selector("#figure[data-ready=true]", timeout=20_000)
        bundles.check(page.main_frame, name)
    assert set(bundles.registered) == set(embeds.BUNDLES)


def test_math_is_typeset(visit):
    page = visit().goto("gallery/optimizers/adam.html")
    page.locator(".arithmatex:visible").first.scroll_into_view_if_needed()  # under the figures, which come first
    page.wait_for_selector(".arithmatex .katex", timeout=20_000)
    assert page.locator(".arithmatex .katex").count() >= 3


def test_katex_loads_only_once_a_formula_comes_into_view(visit):
    v = visit()
    fetched = []
    v.context.on("request", lambda request: fetched.append(request.url))
    page = v.goto("gallery/optimizers/adam.html#on-each-test-function")  # the formulas are further down
    figure_frame(page, visible_embeds(page)[0])
    assert page.evaluate("document.querySelectorAll('.arithmatex').length") >= 3
    assert page.locator(".arithmatex .katex").count() == 0 and not any("katex" in url for url in fetched)
    page.locator(".arithmatex:visible").first.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('.arithmatex:not(:has(.katex))').length === 0")
    assert any(url.endswith("katex.min.js") for url in fetched)


def test_search_finds_a_word_beside_a_formula_and_shows_the_formula_as_text(visit):
    """Methodology: "Shampoo's preconditioner is \\((\\sum_t g_t g_t^\\top)^{-1/2}\\)". Searching the word next to the
    formula finds the section, whose result reads the formula as text (gallery_builder/search_text.py)."""
    page = visit().goto("index.html")
    assert "preconditioner is <span class=\"arithmatex\">" in page.evaluate(
        "fetch('methodology.html').then(r => r.text())")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("preconditioner")  # Material reads keystrokes
    hit = page.locator(".md-search-result__item a[href*='methodology.html'][href$='#not-here-and-why']")
    hit.first.wait_for(timeout=15_000)
    shown = page.locator(".md-search-result__list").inner_text()
    assert "(Σₜ gₜ gₜᵀ)" in shown and not re.search(r"\\[()\[\]]|\$|\\[A-Za-z]+", shown), shown


def test_instant_navigation_renders_the_next_pages_plots(visit):
    page = visit().goto("index.html")
    navigate_instantly(page, "article a[href$='gallery/optimizers/adam.html']:visible",
                       "**/gallery/optimizers/adam.html")
    page.wait_for_selector("h1:has-text('Adam')")
    assert swapped_in(page)  # navigation.instant swapped the page in place
    figure_frame(page, visible_embeds(page)[0])
    page.locator(".arithmatex:visible").first.scroll_into_view_if_needed()
    page.wait_for_selector(".arithmatex .katex", timeout=20_000)  # math typeset after the swap too


def test_palette_toggle_restyles_embeds(visit):
    page = visit().goto("gallery/functions/himmelblau.html")
    frame = figure_frame(page, visible_embeds(page)[1])
    assert frame.evaluate("document.documentElement.dataset.theme") == "light"
    light = frame.evaluate("document.getElementById('figure')._fullLayout.paper_bgcolor")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    frame.wait_for_function("document.documentElement.dataset.theme === 'dark'")
    dark = frame.evaluate("document.getElementById('figure')._fullLayout.paper_bgcolor")
    assert light != dark


def click_slider_step(frame, slider_index: int, label: str):
    """Clicks a Plotly slider's rail at the position of one of its step labels, as a reader would."""
    group = frame.locator("g.slider-group").nth(slider_index)
    group.scroll_into_view_if_needed()  # frames loading above may have moved it since the frame was scrolled to
    box = group.locator(".slider-label", has_text=label).first.bounding_box()
    rail = group.locator(".slider-rail-touch-rect").bounding_box()
    frame.page.mouse.click(box["x"] + box["width"] / 2, rail["y"] + rail["height"] / 2)


VISIBLE_PATH = """() => {
    const gd = document.getElementById('figure');
    const t = gd._fullData.find(d => d.visible === true && d.mode === 'lines+markers');
    return {name: t.name, points: t._length};
}"""


def test_learning_rate_slider_and_play_change_the_drawn_trajectory(visit):
    page = visit().goto("gallery/optimizers/sgd.html")
    frame = figure_frame(page, visible_embeds(page)[0])
    before = frame.evaluate(VISIBLE_PATH)
    sliders = frame.evaluate("document.getElementById('figure').layout.sliders.map(s => s.name)")
    lr_index = sliders.index("lr")
    first_label = frame.evaluate(f"document.getElementById('figure').layout.sliders[{lr_index}].steps[0].label")
    click_slider_step(frame, lr_index, first_label)
    frame.wait_for_function(f"() => ({VISIBLE_PATH})().name !== {before['name']!r}")
    after = frame.evaluate(VISIBLE_PATH)
    assert after["name"] == f"lr = {first_label.rstrip('★')}"

    frame.locator("g.updatemenu-button").first.click()  # ▶
    frame.wait_for_function("document.getElementById('figure').dataset.playing === 'true'")
    frame.wait_for_function(f"() => ({VISIBLE_PATH})().points < {after['points']}")  # the trail grows from step 0
    frame.wait_for_function("document.getElementById('figure').dataset.playing === 'false'", timeout=90_000)
    assert frame.evaluate(VISIBLE_PATH)["points"] == after["points"]  # and ends showing every step


def test_keyboard_controls(visit):
    page = visit().goto("gallery/optimizers/adam.html")
    frame = figure_frame(page, visible_embeds(page)[0])
    before = frame.evaluate(VISIBLE_PATH)
    frame.focus("#figure")
    frame.press("#figure", "ArrowDown")  # the next smaller learning rate
    frame.wait_for_function(f"() => ({VISIBLE_PATH})().name !== {before['name']!r}")
    frame.press("#figure", "ArrowLeft")  # one slider position back from the last step
    frame.wait_for_function("document.getElementById('figure').dataset.step !== undefined")
    step = int(frame.evaluate("document.getElementById('figure').dataset.step"))
    last = int(frame.evaluate("document.getElementById('figure').layout.sliders[1].steps.slice(-1)[0].value"))
    assert 0 < step < last
    assert frame.evaluate(VISIBLE_PATH)["points"] == step + 1  # the trail now ends at that step
    frame.press("#figure", " ")
    frame.wait_for_function("document.getElementById('figure').dataset.playing === 'true'")


# Every text box of an embed (SVG text: titles, ticks, axis titles, legend, slider labels, annotations, colour
# bar labels; plus the modebar, which must not cover the title), and the vertical extent of everything drawn.
EMBED_BOXES = """() => {
    const gd = document.getElementById('figure');
    const shown = el => {
        for (let e = el; e && e !== document; e = e.parentElement) {
            const s = getComputedStyle(e);
            if (s.display === 'none' || s.visibility === 'hidden') return false;
        }
        return true;
    };
    const box = (el, what) => {
        const r = el.getBoundingClientRect();
        return {what, x: r.x, y: r.y, w: r.width, h: r.height};
    };
    const texts = [...gd.querySelectorAll('svg text')]
        .filter(t => t.textContent.trim() && shown(t) && t.getBoundingClientRect().width > 0)
        .map(t => box(t, t.textContent));
    // Text a legend's box clips: its entries beyond the box when the legend scrolls.
    const clipped = [...gd.querySelectorAll('.legend')].flatMap(legend => {
        const bg = legend.querySelector('.bg');
        if (!bg) return [];
        const r = bg.getBoundingClientRect();
        return [...legend.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => box(t, t.textContent))
            .filter(b => b.y < r.y - 0.5 || b.y + b.h > r.y + r.height + 0.5);
    });
    const modebar = gd.querySelector('.modebar');
    const drawn = [...gd.querySelectorAll('.bglayer rect, .nsewdrag, .slider-group, .updatemenu-button, ' +
                                          '.legend .bg, .colorbar .cbfill, .gl-container > div')]
        .filter(shown).map(el => box(el, el.getAttribute('class') || el.tagName));
    // A figure alone in a window may scroll; in an iframe, whatever is below the frame's height is cut.
    const height = window.parent === window ? Math.max(window.innerHeight, gd.offsetHeight) : window.innerHeight;
    return {texts, clipped, modebar: modebar ? box(modebar, 'modebar') : null, drawn: drawn.concat(texts),
            width: window.innerWidth, height};
}"""


def layout_problems(found: dict) -> list:
    """Overlapping text boxes, text cut at the embed's edge or by a legend's box, and empty horizontal bands."""
    problems = []
    boxes = found["texts"] + ([found["modebar"]] if found["modebar"] else [])
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"]) > 1 and \
                    min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]) > 1:
                problems.append(f"overlap: {a['what']!r} and {b['what']!r}")
    for t in found["texts"]:
        if t["x"] < -0.5 or t["y"] < -0.5 or t["x"] + t["w"] > found["width"] + 0.5 or \
                t["y"] + t["h"] > found["height"] + 0.5:
            problems.append(f"cut at the edge: {t['what']!r}")
    problems += [f"cut by the legend's box: {t['what']!r}" for t in found["clipped"]]
    covered = sorted((d["y"], d["y"] + d["h"]) for d in found["drawn"] if d["h"] > 0)
    reached = 0.0
    for top, bottom in covered + [(found["height"], found["height"])]:
        if top - reached > EMPTY_BAND:
            problems.append(f"empty band from {reached:.0f} to {top:.0f} px of {found['height']} px")
        reached = max(reached, bottom)
    return problems


SHOTS = Path(os.environ.get("EMBED_SHOTS", "/tmp/embed-shots"))  # screenshots to look at when this fails
EMPTY_BAND = 64  # px: taller than any gap the layouts leave on purpose (the modebar's row, axis titles)


def embed_layout(frame) -> dict:
    """The boxes of a drawn embed, once its frame has the height the embed asked for."""
    frame.wait_for_function("""() => {
        const gd = document.getElementById('figure');
        return gd._fullLayout && Math.abs(window.innerHeight - gd._fullLayout.height) <= 1;
    }""", timeout=10_000)
    frame.wait_for_timeout(200)  # label thinning runs after Plotly's afterplot
    return frame.evaluate(EMBED_BOXES)


def placements(site: Path) -> dict:
    """The first page (in path order) that places each embed file of the site; a file only linked is absent."""
    first = {}
    for path in site_pages(site):
        for name in framed(site / path):
            first.setdefault(name, path)
    return first


def placed_layout(page, file_name: str, shot: Path) -> dict:
    """The boxes of an embed placed on the loaded page, shown by clicking through its content tabs."""
    embed = page.locator(f".og-embed[data-src$='/{file_name}']")
    for label in page.locator(".tabbed-labels > label").all():
        if embed.is_visible():
            break
        label.click()
    found = embed_layout(figure_frame(page, embed.get_attribute("data-src")))
    page.locator(f"iframe.og-embed[data-src$='/{file_name}']").screenshot(path=str(shot))
    return found


def figure_problems(browser, base: str, site: Path, file_names: list, width: int) -> list:
    """Overlapping or cut text and empty bands of each embed at ``width``: in the iframe of the page that places it
    (each such page loaded once for all its embeds), or alone in the window when it is only linked. ``base`` is the
    URL that serves the folder ``site``."""
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    where, problems, loaded = placements(site), [], None
    for file_name in sorted(file_names, key=lambda name: where.get(name, "")):
        shot = SHOTS / f"{width}-{file_name}.png"
        if file_name not in where:  # linked, not placed: it fills the reader's window
            page.goto(f"{base}gallery/embeds/{file_name}")
            page.wait_for_selector("#figure[data-ready=true]", timeout=20_000)
            found = page.evaluate(EMBED_BOXES)
            page.screenshot(path=str(shot), full_page=True)
            loaded = None
        else:
            if loaded != where[file_name]:
                loaded = where[file_name]
                page.goto(f"{base}{loaded}")
            found = placed_layout(page, file_name, shot)
        problems += [f"{file_name} at {width} px: {p}" for p in layout_problems(found)]
    context.close()
    return problems


def one_embed_of_each_kind(small_site: Path) -> list:
    """The file name of the first embed of every figure kind the test site has."""
    from gallery_builder import config, embeds, sweep

    settings = config.load(small_site / "gallery.toml")
    cells = sweep.run_sweep(settings, jobs=1, cache_dir=small_site / ".cache", quiet=True).cells
    return [f"{'--'.join((kind.name, *names))}.html" for kind in embeds.KINDS.values()
            for names, _ in embeds.subjects(kind, settings, cells)[:1]]


@pytest.mark.parametrize("width", [390, 1400])
def test_every_kind_of_figure_fits_its_frame_without_colliding_text(browser, server, small_site, width):
    """At a phone's and a desktop's width, on every kind of figure: no two text boxes overlap, none is cut at the
    embed's edge, and no empty band is left. Figures placed on pages are checked in their page's iframe."""
    from gallery_builder import embeds

    origin, site = server
    checked = one_embed_of_each_kind(small_site)
    problems = figure_problems(browser, f"{origin}/{SUB_PATH}/", site, checked, width)
    assert {name.split("--")[0] for name in checked} == set(embeds.KINDS)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", [390, 1400])
def test_figures_of_all_optimizers_fit_without_colliding_text(browser, default_site, width):
    """The default gallery's figures of every optimizer on one function (28 legend entries, sensitivity curves and
    rows), at a phone's and a desktop's width: no overlapping or cut text, no empty band."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_pages import serve
    from gallery_builder import embeds

    site = default_site / "site"
    kinds = [kind.name for kind in embeds.KINDS.values() if kind.scope == embeds.FUNCTION and kind.name != "surface"]
    files = [f"{kind}--rosenbrock.html" for kind in kinds]
    assert all((site / "gallery" / "embeds" / name).is_file() for name in files) and len(files) >= 5
    with serve(site) as base:
        problems = figure_problems(browser, base, site, files, width)
    assert problems == [], "\n".join(problems)


# The category labels of a figure's y axis that show (embed.js hides those that would touch a neighbour).
SHOWN_ROWS = """() => [...document.querySelectorAll('#figure g.ytick > text')]
    .filter(t => getComputedStyle(t.parentNode).display !== 'none' && t.getBoundingClientRect().width > 0)
    .map(t => t.textContent)"""


def named_rows(browser, base: str, site: Path, file_name: str, width: int) -> tuple:
    """The row names shown by an embed in the iframe of the page that places it, at ``width``, and the text that
    overlaps or is cut there (layout_problems)."""
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{base}{placements(site)[file_name]}")
    frame = figure_frame(page, page.locator(f".og-embed[data-src$='/{file_name}']").element_handle())
    found = embed_layout(frame)
    shown = frame.evaluate(SHOWN_ROWS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(f"iframe.og-embed[data-src$='/{file_name}']").screenshot(path=str(SHOTS / f"{width}-{file_name}.png"))
    context.close()
    return shown, layout_problems(found)


@pytest.mark.parametrize("width", [390, 1400])
def test_does_a_schedule_help_names_every_optimizer(browser, default_site, width):
    """Issue 25: at 390 px the figure named every second optimizer (the embed hides labels that would touch). In
    the default gallery, on its function page: every optimizer's name shows once, with no text overlapping or cut."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_pages import serve
    from gallery_builder import config, optimizers

    names = [optimizers.get(name).title for name in config.Settings().optimizers]
    with serve(default_site / "site") as base:
        shown, problems = named_rows(browser, base, default_site / "site", "schedule_help--rosenbrock.html", width)
    assert sorted(shown) == sorted(names) and len(names) == len(optimizers.CATALOGUE)
    assert problems == [], "\n".join(problems)


def heaviest_of_each_kind(site: Path) -> list:
    """The default site's pages for a first-visit check: every page, except that of the pages made from one
    template per optimizer, per card viewer and per design record, only the heaviest few (by their HTML) are kept;
    the others differ from them by their data only."""
    pages = site_pages(site)
    sampled = {"gallery/optimizers/": 3, "gallery/view/": 2, "design/": 1}
    kept = [p for p in pages if not p.startswith(tuple(sampled))]
    for prefix, n in sampled.items():
        kept += sorted((p for p in pages if p.startswith(prefix)), key=lambda p: -(site / p).stat().st_size)[:n]
    return sorted(kept)


def test_first_visits_of_the_default_site_fit_the_budget(browser, default_site):
    """The real default gallery (28 optimizers, the largest races), on an empty cache: every page but the
    heaviest few of each many-of-a-kind template, each at most 3 MB (1 MB gzipped) fetched, as
    scripts/bench_pages.py measures it, with no console error and no 3-D bundle (loaded on request)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_pages import BUDGET, measure, serve

    site = default_site / "site"
    pages = heaviest_of_each_kind(site)
    assert {"index.html", "gallery/index.html", "gallery/comparison.html", "gallery/playground.html",
            *(f"gallery/functions/{name}.html" for name in functions.CATALOGUE)} <= set(pages)
    with serve(site) as base:
        for path in pages:
            weight = measure(browser, base, path, site)
            assert weight["bytes"] <= BUDGET["bytes"] and weight["gzip"] <= BUDGET["gzip"], (
                path, weight["bytes"], weight["gzip"])
            assert weight["problems"] == [], path
            assert not any("plotly-gl3d" in url for url in weight["files"]), path


FRAMES = """() => [...document.querySelectorAll('.og-embed')].map(f => ({
    loaded: f.tagName === 'IFRAME', top: f.getBoundingClientRect().top, shown: f.offsetParent !== null}))"""


def test_embeds_load_as_they_come_near_and_not_in_closed_tabs(visit):
    page = visit().goto("gallery/optimizers/adam.html")
    page.wait_for_timeout(500)
    height = page.evaluate("innerHeight")
    frames = page.evaluate(FRAMES)
    assert frames and all(not f["loaded"] for f in frames if not f["shown"] or f["top"] > 2 * height)
    frame = figure_frame(page, visible_embeds(page)[0])  # scrolled to: loaded and drawn
    assert frame.evaluate("document.getElementById('figure').dataset.ready") == "true"
    assert not any(f["loaded"] for f in page.evaluate(FRAMES) if not f["shown"])


def test_a_page_opened_at_a_figure_requests_it_before_materials_scripts_arrive(visit):
    """gallery.js runs first from the end of the page's content: the embed near the address's section is requested
    while Material's bundle is still held back, and is drawn once the bundle arrives."""
    v = visit()
    held = []
    v.page.route(re.compile(r"/assets/javascripts/bundle\.\w+\.min\.js$"), lambda route: held.append(route))
    url = f"{v.origin}/{SUB_PATH}/gallery/optimizers/adam.html#on-each-test-function"
    with v.page.expect_request(lambda request: "/gallery/embeds/" in request.url, timeout=15_000) as first:
        v.page.goto(url, wait_until="commit")
    assert held and "/embeds/pair--adam--" in first.value.url
    for route in held:
        route.continue_()
    figure_frame(v.page, visible_embeds(v.page)[0])


# Counts the draws of an embed: Plotly.react, wrapped as soon as the bundle defines Plotly.
COUNT_DRAWS = """(() => { let plotly;
    Object.defineProperty(window, 'Plotly', { configurable: true, get: () => plotly, set: value => {
        plotly = value; const react = value.react; window.draws = 0;
        value.react = function () { window.draws++; return react.apply(this, arguments); }; } }); })();"""


def test_a_narrow_embed_with_a_legend_is_drawn_once(browser, server, small_site):
    """On a phone the legend gets a row of its own whose height is estimated before the first draw: every kind of
    figure with one is drawn once (a missed estimate costs a second draw)."""
    origin, site = server
    checked = []
    for file_name in one_embed_of_each_kind(small_site):
        narrow = figure_of(site / "gallery" / "embeds" / file_name).get("narrow") or {}
        if not any(block.get("legend") for block in narrow.get("blocks", [])):
            continue
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.add_init_script(COUNT_DRAWS)
        page.goto(f"{origin}/{SUB_PATH}/gallery/embeds/{file_name}")
        page.wait_for_selector("#figure[data-ready=true]", timeout=20_000)
        assert page.evaluate("window.draws") == 1, file_name
        context.close()
        checked.append(file_name.split("--")[0])
    assert {"race", "sensitivity", "state"} <= set(checked), checked


def test_a_3d_view_loads_on_request(visit):
    v = visit()
    page = v.goto("gallery/functions/himmelblau.html")
    link = page.locator("a.og-deferred")
    assert link.count() == 1 and "surface--himmelblau.html" in link.get_attribute("href")
    link.focus()
    page.keyboard.press("Enter")  # keyboard, like a click
    frame = page.locator("iframe.og-embed[src*='surface--himmelblau']")
    assert frame.count() == 1
    assert page.evaluate("document.activeElement.tagName") == "IFRAME"
    inner = figure_frame(page, frame.element_handle())
    assert inner.evaluate("document.getElementById('figure')._fullData[0].type") == "surface"


def shown_cards(page):
    return page.evaluate("""[...document.querySelectorAll('.og-card')].filter(c => !c.hidden && c.offsetParent)
                            .map(c => c.dataset.optimizer + '/' + c.dataset.function)""")


@pytest.mark.parametrize("width", [1280, 390])
def test_gallery_filters(visit, small_site, width):
    from gallery_builder import config

    settings = config.load(small_site / "gallery.toml")
    every = {f"{o}/{f}" for o in settings.optimizers for f in settings.functions}
    v = visit()
    v.page.set_viewport_size({"width": width, "height": 844})
    page = v.goto("gallery/comparison.html")
    # Reached by instant navigation, so the filters must be set up on a page swapped in, not only on a first load.
    navigate_instantly(page, "article a[href$='gallery/index.html']:visible", "**/gallery/index.html")
    page.wait_for_selector(".og-filters:not([hidden])")
    assert swapped_in(page)
    # It opens on one function with a minimum (the first of the build's), not on every card at once.
    first = next(f for f in settings.functions if functions.get(f).minimum is not None)
    assert set(shown_cards(page)) == {f"{o}/{first}" for o in settings.optimizers}
    assert page.locator(".og-count").inner_text() == f"{len(settings.optimizers)} of {len(every)} shown"
    page.select_option("select[data-filter=function]", "")
    assert set(shown_cards(page)) == every
    assert page.locator(".og-count").inner_text() == f"{len(every)} of {len(every)} shown"

    page.select_option("select[data-filter=optimizer]", "adam")
    assert set(shown_cards(page)) == {f"adam/{f}" for f in settings.functions}
    # The keyboard works as on any select: focus the function filter, step to the first function.
    page.focus("select[data-filter=function]")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("select[data-filter=function]", "s => s.value") == first
    assert shown_cards(page) == [f"adam/{first}"]
    assert page.locator(".og-count").inner_text() == f"1 of {len(every)} shown"
    assert "optimizer=adam" in page.url and "function" not in page.url  # the function at its default
    card = page.locator(".og-card:visible").first
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # inside the screen, also at 390 px
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # The filters are in the URL: a reload (or a shared link) shows the same cards.
    page.reload()
    page.wait_for_selector(".og-filters:not([hidden])")
    assert shown_cards(page) == [f"adam/{first}"]
    page.select_option("select[data-filter=optimizer]", "")
    page.select_option("select[data-filter=function]", "")
    assert set(shown_cards(page)) == every and "optimizer=" not in page.url
    page.reload()  # "all functions" is kept too, though the gallery opens on one
    page.wait_for_selector(".og-filters:not([hidden])")
    assert set(shown_cards(page)) == every


STATE_SHOWN = """() => {
    const gd = document.getElementById('figure');
    const arrow = gd.data.find(t => t.name === '−lr·b'), path = gd.data.find(t => t.name === 'path');
    const panels = gd.data.filter(t => t.xaxis && t.xaxis !== 'x');
    const n = path.x.length;
    return {visible: arrow.visible === undefined ? true : arrow.visible, tail: [arrow.x[0], arrow.y[0]],
            at: [path.x[n - 1], path.y[n - 1]], points: n, arrow: arrow.x.length,
            panel_last: Math.max(...panels.map(t => t.x[t.x.length - 1]))};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_state_overlays_follow_the_step_slider_and_toggle_from_the_legend(visit, width):
    page = visit().goto("gallery/optimizers/momentum.html")
    page.set_viewport_size({"width": width, "height": 844})
    iframe = next(src for src in visible_embeds(page) if "/state--momentum--" in src)
    frame = figure_frame(page, iframe)
    labels = frame.evaluate("""() => [...document.querySelectorAll('.slider-group .slider-label-group')]
        .filter(g => g.style.display !== 'none').map(g => g.textContent)""")
    target = labels[len(labels) // 2]  # a step in the middle of the run
    click_slider_step(frame, 0, target)
    frame.wait_for_function(f"document.getElementById('figure').dataset.step === '{target}'")
    shown = frame.evaluate(STATE_SHOWN)
    # The arrow starts at the path's current end, and the panels stop at the same step.
    assert shown["points"] == int(target) + 1 and shown["panel_last"] == int(target) and shown["arrow"] == 2
    assert shown["tail"] == pytest.approx(shown["at"], rel=1e-6)

    frame.locator("g.legend g.traces", has_text="−lr·b").click()
    frame.wait_for_function(f"({STATE_SHOWN})().visible === 'legendonly'")
    assert frame.evaluate("[...document.querySelectorAll('.scatterlayer .trace')].length") > 0
    frame.locator("g.legend g.traces", has_text="−lr·b").click()
    frame.wait_for_function(f"({STATE_SHOWN})().visible === true")


NOISE_VISIBLE = """() => {
    const gd = document.getElementById('figure');
    const seeds = gd._fullData.find(d => d.visible === true && d.name === 'every seed');
    const band = gd._fullData.filter(d => d.visible === true && d.fill === 'tonexty');
    return {points: seeds ? seeds._length : 0, band: band.length, title: gd._fullLayout.title.text};
}"""


@pytest.mark.parametrize("width", [390, 1400])
def test_noise_figure_lr_slider_switches_seeds_and_band(browser, server, width):
    """The noisy pair figure: one lr's seeds and quartile band at a time, and the slider moves to another lr."""
    origin, _ = server
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.goto(f"{origin}/{SUB_PATH}/gallery/embeds/noise--adam--himmelblau.html")
    page.wait_for_selector("#figure[data-ready=true]", timeout=20_000)
    before = page.evaluate(NOISE_VISIBLE)
    assert before["points"] > 0 and before["band"] == 1
    labels = page.evaluate("document.getElementById('figure').layout.sliders[0].steps.map(s => s.label)")
    active = page.evaluate("document.getElementById('figure').layout.sliders[0].active")
    other = labels[0] if active != 0 else labels[-1]
    click_slider_step(page.main_frame, 0, other)
    page.wait_for_function(f"() => ({NOISE_VISIBLE})().title !== {before['title']!r}")
    after = page.evaluate(NOISE_VISIBLE)
    assert f"lr = {other.rstrip('★')}" in after["title"] and after["band"] <= 1
    context.close()


# --- A way in: the home page, figures before prose, the comparison at any width, touch --------------------------

SCREENS = {"desktop": (1400, 900), "phone": (390, 844)}


def screen(visit, name):
    width, height = SCREENS[name]
    v = visit()
    v.page.set_viewport_size({"width": width, "height": height})
    return v


@pytest.mark.parametrize("name", SCREENS)
def test_the_home_pages_first_screen_shows_a_picture(visit, name):
    page = screen(visit, name).goto("index.html")
    shown = page.evaluate("""() => [...document.querySelectorAll('article img, article iframe.og-embed')]
        .filter(el => { const r = el.getBoundingClientRect();
                        return r.width > 80 && r.top < innerHeight && r.bottom > 0
                               && (el.tagName !== 'IMG' || el.complete && el.naturalWidth > 0); })
        .map(el => el.getAttribute('src') || el.dataset.src)""")
    assert shown, "no picture on the first screen"
    # Its first paragraph says what the site is, above the tour.
    assert page.locator("article h2#start-here").count() == 1


@pytest.mark.parametrize("name", SCREENS)
def test_the_first_figure_is_within_a_screen_and_a_half_on_every_optimizer_and_function_page(visit, server,
                                                                                             small_site, name):
    from gallery_builder import config

    settings = config.load(small_site / "gallery.toml")
    paths = [f"gallery/optimizers/{o}.html" for o in settings.optimizers]
    paths += [f"gallery/functions/{f}.html" for f in settings.functions]
    v = screen(visit, name)
    for path in paths:
        page = v.goto(path)
        top = page.evaluate("""() => { const first = [...document.querySelectorAll(
                                           'article .og-embed, article .og-deferred')].find(el => el.offsetParent);
                                       return first ? first.getBoundingClientRect().top + scrollY : null; }""")
        assert top is not None and top < 1.5 * SCREENS[name][1], (path, top)


def test_the_comparison_keeps_its_row_and_column_names_in_place(visit, small_site):
    page = screen(visit, "phone").goto("gallery/comparison.html")
    table = page.locator(".og-matrix table")
    table.scroll_into_view_if_needed()
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # 390 px: the table itself scrolls sideways
    table.evaluate("t => { t.scrollLeft = t.scrollWidth; }")
    row_names = page.evaluate("""() => {
        const table = document.querySelector('.og-matrix table'), box = table.getBoundingClientRect();
        return [...table.tBodies[0].rows].map(row => {
            const r = row.cells[0].getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return r.left >= box.left - 1 && row.cells[0].contains(hit) ? row.cells[0].innerText.trim() : null;
        });
    }""")
    assert row_names and all(row_names), row_names  # every row still says which optimizer it is
    # And the header row stays on top when the table scrolls down inside its box (28 rows do; these 4 in a box
    # made as short as 28 would make it).
    table.evaluate("t => { t.style.maxHeight = '6rem'; t.scrollLeft = 0; t.scrollTop = t.scrollHeight; }")
    assert table.evaluate("t => t.scrollTop > 0")
    header = page.evaluate("""() => {
        const table = document.querySelector('.og-matrix table'), th = table.tHead.rows[0].cells[1];
        const r = th.getBoundingClientRect(), box = table.getBoundingClientRect();
        return {top: r.top - box.top, hit: th.contains(document.elementFromPoint(r.left + 4, r.top + r.height / 2))};
    }""")
    assert abs(header["top"]) <= 1 and header["hit"], header


def test_the_scorecard_sorts_by_a_column_and_links_every_number(visit):
    page = visit().goto("gallery/scorecard.html")
    headings = page.locator(".og-scorecard thead th button")
    window = [i for i in range(headings.count()) if "lr window" in headings.nth(i).inner_text()][0]
    headings.nth(window).click()
    keys = page.evaluate(f"""() => [...document.querySelector('.og-scorecard table').tBodies[0].rows]
        .map(r => r.cells[{window}].querySelector('[data-sort]')?.dataset.sort ?? '')""")
    numbers = [float(k) for k in keys if k]
    assert numbers == sorted(numbers, reverse=True) and keys[:len(numbers)] == [k for k in keys if k]
    links = page.evaluate("""() => [...document.querySelectorAll('.og-scorecard tbody td:not(:first-child)')]
        .filter(td => td.innerText.trim() !== '–').map(td => td.querySelector('a')?.getAttribute('href'))""")
    assert links and all(links), links


def touch_drag(page, x0, y, x1, steps=8):
    """A one-finger drag by CDP touch events, as a phone's browser sends them."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for k in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": "touchMove", "touchPoints": [{"x": x0 + (x1 - x0) * k / steps, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_touch_drag_moves_a_slider_handle(browser, server):
    origin, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(f"{origin}/{SUB_PATH}/gallery/embeds/pair--adam--rosenbrock.html")
    page.wait_for_selector("#figure[data-ready=true]")
    steps = page.evaluate("document.getElementById('figure').layout.sliders.map(s => s.name)").index("step")
    grip = page.locator("g.slider-group").nth(steps).locator("rect.slider-grip-rect")
    grip.scroll_into_view_if_needed()
    box = grip.bounding_box()
    before = page.evaluate(f"document.getElementById('figure')._fullLayout.sliders[{steps}].active")
    touch_drag(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 90)
    page.wait_for_function(f"document.getElementById('figure')._fullLayout.sliders[{steps}].active < {before}")
    assert int(page.evaluate("document.getElementById('figure').dataset.step")) < int(
        page.evaluate(f"document.getElementById('figure').layout.sliders[{steps}].steps[{before}].value"))
    # A standalone narrow figure taller than the phone scrolls to its last control.
    assert page.evaluate("document.scrollingElement.scrollHeight > innerHeight")
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    assert page.evaluate("scrollY") > 0
    context.close()


def test_isolating_an_optimizer_in_the_legend_keeps_the_start_and_the_minimum(visit):
    page = visit().goto("gallery/embeds/race--rosenbrock.html")
    page.wait_for_selector("#figure[data-ready=true]")
    page.locator("g.legend g.traces", has_text="Adam").first.dblclick()
    page.wait_for_function("""() => document.getElementById('figure').data
        .some(t => t.legendgroup && t.visible === 'legendonly')""")
    visible = page.evaluate("""() => document.getElementById('figure').data.map(t =>
        [t.legendgroup || t.name, t.visible === undefined || t.visible === true])""")
    shown = {name for name, on in visible if on}
    assert {"start", "global minimum", "adam"} <= shown  # the landscape too, and the markers plotly.js would hide
    assert not shown & {"sgd", "momentum", "newton"}
    assert page.locator(".plotly-notifier").count() == 0 or not page.locator(".plotly-notifier").is_visible()


def in_view(page, locator) -> bool:
    """Whether an element (in the page or in one of its frames) lies wholly inside the window."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= size["height"] and \
        0 <= box["x"] and box["x"] + box["width"] <= size["width"]


@pytest.mark.parametrize("name", SCREENS)
def test_a_gallery_card_opens_its_figure_inside_the_site_with_a_way_back(visit, name):
    """A card opens its figure under the site's header, with its line, links to both pages and a way back to the
    gallery as the reader left it. On a phone (touch, dark): ▶ and the step slider are reached and work."""
    from gallery_builder import optimizers

    width, height = SCREENS[name]
    phone = name == "phone"
    v = visit(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone,
              color_scheme="dark" if phone else "light")
    page = v.goto("gallery/index.html?optimizer=adam&function=")  # Adam on every function
    page.wait_for_selector(".og-filters:not([hidden])")
    card = page.locator(".og-card[data-optimizer=adam][data-function=himmelblau]")
    picture = card.locator("a:has(img)")
    picture.scroll_into_view_if_needed()
    picture.tap() if phone else picture.click()
    page.wait_for_url("**/gallery/view/himmelblau.html?optimizer=adam")
    assert page.locator(".md-header").is_visible()
    title = f"{optimizers.get('adam').title} on {functions.get('himmelblau').title}"
    page.wait_for_function(f"document.querySelector('article h1').textContent.startsWith({title!r})")
    assert page.evaluate("[...document.querySelectorAll('.og-view')].filter(s => s.offsetParent)"
                         ".map(s => s.dataset.optimizer)") == ["adam"]
    for target in ("optimizers/adam.html", "functions/himmelblau.html"):
        assert page.locator(f".og-view:visible a[href$='{target}']").is_visible()
    embeds = visible_embeds(page)
    assert embeds == ["../embeds/pair--adam--himmelblau.html"]
    frame = figure_frame(page, embeds[0])
    assert frame.evaluate("document.documentElement.dataset.theme") == ("dark" if phone else "light")
    if phone:  # the narrow figure is taller than the screen: the page scrolls to its controls
        play = frame.locator("g.updatemenu-button").first
        play.scroll_into_view_if_needed()
        assert in_view(page, play)
        play.tap()
        frame.wait_for_function("document.getElementById('figure').dataset.playing === 'true'")
        frame.locator("g.updatemenu-button").nth(1).tap()  # ❚❚
        frame.wait_for_function("document.getElementById('figure').dataset.playing === 'false'")
        steps = frame.evaluate("document.getElementById('figure').layout.sliders.map(s => s.name)").index("step")
        grip = frame.locator("g.slider-group").nth(steps).locator("rect.slider-grip-rect")
        grip.scroll_into_view_if_needed()
        assert in_view(page, grip)
        slider = f"document.getElementById('figure')._fullLayout.sliders[{steps}]"
        before, last = frame.evaluate(f"[{slider}.active, {slider}.steps.length - 1]")
        box = grip.bounding_box()
        towards = 1 if before < last / 2 else -1  # ❚❚ may have come at the first step or later: drag to the middle
        touch_drag(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2,
                   box["x"] + towards * width / 3)
        frame.wait_for_function(f"{slider}.active !== {before}")
    else:  # the whole figure in view, below the title
        assert in_view(page, page.locator("iframe.og-embed"))
    page.locator(".og-viewer-back a").click()
    page.wait_for_url("**/gallery/index.html*")
    page.wait_for_selector(".og-filters:not([hidden])")
    assert set(shown_cards(page)) == {f"adam/{f}" for f in ("rosenbrock", "himmelblau", "saddle")}


def test_a_viewer_page_naming_no_optimizer_of_its_function_says_so(visit):
    v = visit()
    for query, said in (("", "Pick an optimizer"), ("?optimizer=nope", "\u201cnope\u201d is not"),
                        ("?optimizer=%3Cimg%20src%3Dx%3E", "\u201c<img src=x>\u201d is not")):
        page = v.goto(f"gallery/view/rosenbrock.html{query}")
        message = page.locator(".og-viewer-message")
        assert message.is_visible() and message.inner_text().startswith(said), query
        assert message.locator("img").count() == 0  # shown as text
        assert page.locator(".og-view:visible").count() == 0 and not visible_embeds(page)
        assert page.locator(".og-viewer-index a").count() == 4
    page.locator(".og-viewer-index a", has_text="Newton").click()
    page.wait_for_url("**/gallery/view/rosenbrock.html?optimizer=newton")
    page.wait_for_selector(".og-view[data-optimizer=newton]:visible")
    assert not page.locator(".og-viewer-message").is_visible()
    assert page.locator(".og-viewer-index a[aria-current]").inner_text() == "Newton's method"
    figure_frame(page, visible_embeds(page)[0])


FLOAT32 = 2.0 ** -23  # a download's float32 numbers: the stated precision, relative (docs/methodology.md)


def assert_within_float32(got, want, where="download"):
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for key in want:
            assert_within_float32(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for k, (a, b) in enumerate(zip(got, want)):
            assert_within_float32(a, b, f"{where}[{k}]")
    elif isinstance(want, float):
        assert isinstance(got, (int, float)) and abs(got - want) <= FLOAT32 * abs(want), (where, got, want)
    else:
        assert got == want and type(got) is type(want), (where, got, want)


def test_every_data_download_is_the_sweeps_data_to_float32(browser, server, small_site):
    """Each kind's download, saved by its embed opened alone at #download (as the pages link it) and once from the
    modebar's button, equals the sweep's numbers (downloads.plain) to float32's precision."""
    from gallery_builder import config, downloads, embeds, sweep

    settings = config.load(small_site / "gallery.toml")
    cells = sweep.run_sweep(settings, jobs=1, cache_dir=small_site / ".cache", quiet=True).cells
    origin, _ = server
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    try:
        for kind in embeds.KINDS.values():
            if kind.data is None:
                continue
            names, subject = embeds.subjects(kind, settings, cells)[0]
            name = "--".join((kind.name, *names))
            with page.expect_download() as saved:
                page.goto(f"{origin}/{SUB_PATH}/gallery/embeds/{name}.html#download")
            assert saved.value.suggested_filename == f"{name}.json"
            got = json.loads(Path(saved.value.path()).read_text())
            assert_within_float32(got, downloads.plain(kind.data(subject, settings)), name)
        page.goto(f"{origin}/{SUB_PATH}/gallery/embeds/pair--adam--rosenbrock.html")
        page.wait_for_selector("#figure[data-ready=true]")
        page.hover("#figure")
        with page.expect_download() as saved:
            page.click('.modebar-btn[data-title="Download the data as JSON"]')
        assert json.loads(Path(saved.value.path()).read_text())["runs"][0]["rows"][0][:3] == [0, -1.2, 1.0]
    finally:
        context.close()

"""The built site: pages, links, embeds, escaping, atomic and incremental builds, determinism, size budget."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import linecache
import json
import shutil
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

from conftest import ROOT, SMALL_CONFIG, cli_env, make_project, run_cli
from gallery_builder import build, config, embeds, figures, functions, optimizers, sweep
from gallery_builder.engine import DIVERGED, ESCAPED, describe


class Links(HTMLParser):
    """Collects href/src attributes (and the data-src an embed's iframe loads), embeds (the links gallery.js turns
    into iframes) and <script> contents of one HTML file."""

    def __init__(self):
        super().__init__()
        self.urls, self.embeds, self.scripts, self._in_script = [], [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src", "data-src"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if "og-embed" in (attrs.get("class") or "").split():
            self.embeds.append((tag, attrs))
        if tag == "script":
            self._in_script = attrs
            self.scripts.append([attrs, ""])

    def handle_data(self, data):
        if self._in_script is not None:
            self.scripts[-1][1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def local_target(page: Path, url: str) -> Path | None:
    """The file a relative URL of ``page`` points at, or None for external, anchor-only and data URLs."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("#", "data:", "mailto:")) or not parts.path:
        return None
    target = (page.parent / unquote(parts.path)).resolve()
    return target / "index.html" if target.is_dir() else target


def html_files(site: Path) -> list:
    return sorted(site.rglob("*.html"))


def test_strict_build_has_every_page(small_site):
    site = small_site / "site"
    settings = config.load(small_site / "gallery.toml")
    for name in settings.optimizers:
        assert (site / "gallery" / "optimizers" / f"{name}.html").is_file()
    for name in settings.functions:
        assert (site / "gallery" / "functions" / f"{name}.html").is_file()
    for page in ("index.html", "methodology.html", "add-your-own.html", "gallery/comparison.html",
                 "benchmarks.html"):
        assert (site / page).is_file(), page
    # Only relative URLs: nothing starts with "/" so the site works under any sub-path. (404.html is served at
    # arbitrary URLs and must be root-relative; MkDocs roots it at site_url.)
    for path in html_files(site):
        if path.name == "404.html":
            continue
        for url in parse(path).urls:
            assert not url.startswith("/"), (path, url)


def broken_links(site: Path) -> tuple:
    """A link check over a built site: hrefs, srcs, iframe sources, data downloads, embed scripts. Returns the
    broken links and how many links were checked."""
    checked, broken = 0, []
    for path in html_files(site):
        if path.name == "404.html":
            continue
        for url in parse(path).urls:
            target = local_target(path, url)
            if target is None:
                continue
            checked += 1
            if not target.is_file():
                broken.append(f"{path.relative_to(site)} -> {url}")
    return broken, checked


def test_every_internal_link_resolves(small_site):
    broken, checked = broken_links(small_site / "site")
    assert not broken, broken[:20]
    assert checked > 500


def test_grid_cards_and_embed_links_reach_existing_embeds(small_site):
    site = small_site / "site"
    gallery = parse(site / "gallery" / "index.html")
    cards = [u for u in gallery.urls if "view/" in u]
    settings = config.load(small_site / "gallery.toml")
    assert len(set(cards)) == len(settings.optimizers) * len(settings.functions)
    for url in cards:
        assert local_target(site / "gallery" / "index.html", url).is_file(), url
    # The home page's tour: every step's figure is an embed of this build.
    tour = [a["data-src"] for _, a in parse(site / "index.html").embeds]
    assert len(tour) >= 4 and all(local_target(site / "index.html", u).is_file() for u in tour)
    page = site / "gallery" / "optimizers" / "adam.html"
    embeds = parse(page).embeds
    assert len([a for _, a in embeds if "/pair--" in a["data-src"]]) == len(settings.functions)
    assert len([a for _, a in embeds if "/lrmap--" in a["data-src"]]) == len(settings.functions)  # adam has a β1 axis
    for tag, attrs in embeds:
        assert tag == "a" and attrs["href"] == attrs["data-src"]  # an iframe only once near (no JS: the link)
        assert attrs["data-title"] and "aspect-ratio" in attrs["style"]
        assert local_target(page, attrs["data-src"]).is_file()


def test_a_viewer_page_per_function_holds_every_card_of_it(small_site):
    """A card opens its function's viewer page at ?optimizer=: a section per optimizer with the pair figure, its
    card's line and links to both pages; kept out of the navigation and of the search index."""
    site = small_site / "site"
    settings = config.load(small_site / "gallery.toml")
    index = json.loads((site / "search" / "search_index.json").read_text())
    assert not [doc for doc in index["docs"] if "view/" in doc["location"]]
    gallery = (site / "gallery" / "index.html").read_text()
    for f in settings.functions:
        page = site / "gallery" / "view" / f"{f}.html"
        text = page.read_text()
        sections = re.findall(r'<section class="og-view" data-optimizer="(\w+)"[^>]*>(.*?)</section>', text, re.S)
        assert [o for o, _ in sections] == list(settings.optimizers)
        for o, body in sections:
            links = Links()
            links.feed(body)
            assert [a["data-src"] for _, a in links.embeds] == [f"../embeds/pair--{o}--{f}.html"]
            assert {f"../optimizers/{o}.html", f"../functions/{f}.html"} <= set(links.urls)
            assert all(local_target(page, u).is_file() for u in links.urls if not u.startswith("#"))
            line = re.search(r"<p>(lr .*?) ·\n", body).group(1)  # the card's own line, the same words
            assert line in gallery, (o, f, line)
        assert f'href="../index.html?function={f}"' in text  # the way back, without JavaScript
        assert 'href="gallery/view/' not in (site / "index.html").read_text()  # not in the navigation


def is_finite_json(value) -> bool:
    """True when no float in a (nested) figure value is NaN or infinite."""
    if isinstance(value, float):
        return np.isfinite(value)
    if isinstance(value, dict):
        return all(is_finite_json(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_finite_json(v) for v in value)
    return True


def figure_of(path: Path) -> dict:
    data = [s for attrs, s in parse(path).scripts if attrs.get("id") == "figure-data"]
    assert len(data) == 1

    def refuse(constant):
        raise AssertionError(f"{constant} in figure JSON of {path.name}")

    return json.loads(embeds.unpacked(data[0]), parse_constant=refuse)


def decode(spec) -> np.ndarray:
    if isinstance(spec, list):
        return np.asarray(spec, float)
    import base64

    dtype = {"f4": "<f4", "f8": "<f8", "i2": "<i2", "u1": "u1"}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)


def test_embeds_are_standalone_and_share_the_plotly_bundles(small_site):
    """2-D figures load the 2-D bundle, 3-D views the gl3d one; each bundle is written once."""
    gallery = small_site / "docs" / "gallery"
    flat, gl3d = embeds.BUNDLES
    for name in embeds.BUNDLES:
        assert 1_000_000 < (gallery / "assets" / name).stat().st_size < 2_000_000
    assert sorted(p.name for p in gallery.rglob("plotly*.js")) == sorted(embeds.BUNDLES)
    assert (small_site / "site" / "gallery" / "assets" / embeds.PLOTLY_LICENCE).is_file()
    pages = sorted((gallery / "embeds").glob("*.html"))
    assert pages
    used = set()
    for path in pages:
        links = parse(path)
        scripts = [a["src"] for a, _ in links.scripts if a.get("src")]
        three_d = path.name.startswith(("pair3d--", "surface--"))
        figure = figure_of(path)
        # the function's contour or surface grids come once, from its landscape file (embeds.landscape)
        function = path.stem.split("--")[-1]
        shared = json.loads((path.parent / f"landscape--{function}.js").read_text().split(" = ", 1)[1].rstrip(";\n"))
        drawn_shared = any(trace["type"] in ("contour", "surface") for trace in figure["data"])
        assert all("shared" in trace["z"] for trace in figure["data"] if trace["type"] in ("contour", "surface"))
        assert scripts == [f"../assets/{gl3d if three_d else flat}",
                           *[f"landscape--{function}.js"] * drawn_shared, "../assets/embed.js"], path.name
        used.add(scripts[0])
        assert path.stat().st_size < 600_000  # far below plotly.js: nothing of it is inlined
        assert "cdn.plot.ly" not in path.read_text()
        assert is_finite_json(figure)
        for trace in figure["data"]:
            for axis in ("x", "y", "z"):
                if isinstance(trace.get(axis), dict):
                    assert np.isfinite(decode(shared.get(trace[axis].get("shared"), trace[axis])).astype(float)).all()
    assert len(used) == 2


def test_the_bundle_is_the_smallest_that_draws_every_trace():
    flat, gl3d = embeds.BUNDLES
    assert embeds.bundle({"data": [{"type": "contour"}, {"x": [1]}]}) == flat  # no type: a scatter
    assert embeds.bundle({"data": [{"type": "heatmap"}, {"type": "scatter"}]}) == flat
    assert embeds.bundle({"data": [{"type": "surface"}, {"type": "scatter3d"}]}) == gl3d
    with pytest.raises(ValueError, match="contour.*surface"):
        embeds.bundle({"data": [{"type": "contour"}, {"type": "surface"}]})


def test_vendored_files_match_their_manifest():
    """What scripts/vendor_assets.py wrote: the plotly.js that plotly ships, files as recorded, each under 2 MB."""
    from plotly.offline import get_plotlyjs_version

    vendor = Path(str(embeds.VENDOR))
    manifest = json.loads((vendor / "manifest.json").read_text())
    assert manifest["plotly.js"] == embeds.PLOTLY_VERSION == get_plotlyjs_version()
    files = sorted(str(p.relative_to(vendor)) for p in vendor.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert files == sorted(manifest["sha256"])
    for name, digest in manifest["sha256"].items():
        data = (vendor / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
        assert len(data) < 2_000_000, name
    assert {"plotly.js-LICENSE.txt", "katex/LICENSE.txt"} <= set(files)
    assert all(spec.split("@")[0] in {"plotly.js-gl3d-dist-min", "katex"}
               and manifest["packages"][spec].startswith("sha512-") for spec in manifest["packages"])
    # The 2-D bundle is built from plotly.js's own sources at the same version, with the trace types it draws.
    built = manifest["built"][f"plotly-2d-{embeds.PLOTLY_VERSION}.min.js"]
    assert built["resolved"]["plotly.js"] == embeds.PLOTLY_VERSION
    assert set(built["traces"]) == embeds.BUNDLES[f"plotly-2d-{embeds.PLOTLY_VERSION}.min.js"]


def test_gallery_page_has_a_card_per_pair(small_site):
    site = small_site / "site"
    settings = config.load(small_site / "gallery.toml")
    page = site / "gallery" / "index.html"
    text = page.read_text()
    cards = []
    for attributes, body in re.findall(r'<div class="card og-card" ([^>]*)>(.*?)</div>', text, re.S):
        data = dict(re.findall(r'data-(\w+)="([^"]*)"', attributes))
        cards.append((data["optimizer"], data["function"], body))
    assert sorted((o, f) for o, f, _ in cards) == sorted(
        (o, f) for o in settings.optimizers for f in settings.functions)
    for o, f, body in cards:
        links = Links()
        links.feed(body)
        assert any(u.endswith(f"thumbs/pair--{o}--{f}.png") for u in links.urls)
        assert f"view/{f}.html?optimizer={o}" in links.urls  # its figure, opened inside the site
        assert any(u.endswith(f"optimizers/{o}.html") for u in links.urls)
        assert all(local_target(page, u).is_file() for u in links.urls)
    for select in ("optimizer", "function"):
        assert f'<select data-filter="{select}"' in text
    # The table stays, on the comparison page.
    comparison = (site / "gallery" / "comparison.html").read_text()
    assert "og-matrix" in comparison and comparison.count("thumbs/surface--") == len(settings.functions)


def test_pair_embed_shows_the_sweep_trajectories(small_site):
    """The figure's traces are the cached runs, one per learning rate, cut at their last finite point."""
    settings = config.load(small_site / "gallery.toml")
    report = sweep.run_sweep(settings, jobs=1, cache_dir=small_site / ".cache", quiet=True)
    assert report.computed == 0
    for (o, f), cell in report.cells.items():
        figure = figure_of(small_site / "docs" / "gallery" / "embeds" / f"pair--{o}--{f}.html")
        paths = [t for t in figure["data"] if t.get("mode") == "lines+markers"]
        assert len(paths) == len(cell.lrs)
        for i, trace in enumerate(paths):
            last = int(cell.runs.last[i])
            expected = cell.runs.points[i, : last + 1]
            xs, ys = decode(trace["x"]), decode(trace["y"])
            assert len(xs) == last + 1
            np.testing.assert_allclose(xs, expected[:, 0], rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(ys, expected[:, 1], rtol=1e-6, atol=1e-6)
            assert (trace["visible"] is True) == (i == cell.chosen)


def test_a_diverged_run_is_marked(small_site):
    settings = config.load(small_site / "gallery.toml")
    report = sweep.run_sweep(settings, jobs=1, cache_dir=small_site / ".cache", quiet=True)
    marked = 0
    for (o, f), cell in report.cells.items():
        figure = figure_of(small_site / "docs" / "gallery" / "embeds" / f"pair--{o}--{f}.html")
        ends = [t for t in figure["data"] if t.get("name") == "end"]
        for i, status in enumerate(cell.runs.status):
            if status in (DIVERGED, ESCAPED):
                text = describe(status, cell.runs.stop_step[i], settings.steps_for(f))
                assert text.endswith(f"at step {cell.runs.stop_step[i]}")
                assert text in ends[i]["hovertemplate"]
                assert ends[i]["marker"]["symbol"] in ("x", "triangle-up")
                marked += 1
    assert marked > 0


def test_packed_embed_json_gives_back_the_same_json_in_fewer_bytes():
    """embeds.packed (typed arrays' bytes shuffled after the JSON, deflated, base64) gives back the JSON it was given,
    with every dtype and a 2-D shape, in fewer bytes than deflating the text; the same value packs to the same text."""
    t = np.linspace(0, 3, 2000)
    value = {"data": [{"x": figures.typed(np.cos(t) * (1 + t)), "y": figures.typed(np.sin(t), "f8"),
                       "z": figures.typed(np.outer(t[:40], t[:50])), "steps": figures.typed(np.arange(300), "i2"),
                       "codes": figures.typed(np.arange(200) % 7, "u1"), "name": "é </script>", "lists": [[1.5, None]]}]}
    text = embeds.packed(value)
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", text) and text == embeds.packed(value)
    assert embeds.unpacked(text) == embeds.figure_json(value)
    assert len(text) < 0.8 * len(base64.b64encode(zlib.compress(embeds.figure_json(value).encode(), 9)))


def test_data_downloads_are_carried_by_their_embeds(small_site):
    """No data file beside the embeds: each embed with data carries it (its JSON is written in the browser)."""
    embeds_dir = small_site / "docs" / "gallery" / "embeds"
    assert not list(embeds_dir.glob("*.json"))
    record = json.loads(embeds.unpacked(re.search(r'id="figure-download">(.*?)</script>',
                                                  (embeds_dir / "pair--adam--rosenbrock.html").read_text()).group(1)))
    assert record["optimizer"] == "adam" and record["settings"]["steps"]["rosenbrock"] == 80
    assert len(record["runs"]) == 5 and record["runs"][0]["rows"]["columns"][0] == {"from": 0}
    assert 'href="../embeds/pair--adam--rosenbrock.html#download"' in \
        (small_site / "site" / "gallery" / "optimizers" / "adam.html").read_text().replace("/index.html", ".html")


def test_pages_show_numbers_from_this_build(small_site):
    text = (small_site / "docs" / "gallery" / "optimizers" / "adam.md").read_text()
    raw = (small_site / "site" / "gallery" / "optimizers" / "adam.html").read_text()
    html = unescape(raw)
    # Adam's best rate in this small build is its largest, so the page says it sits at the limit of the search.
    assert re.search(r"At the best learning rate, lr = [0-9.e-]+, at the edge of the search \(limit 3 decades above "
                     r"the default\), Adam ", html)
    assert "$$" in text and r"\hat m_t" in text  # the update rule from the optimizer's own definition
    assert "def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):" in text  # its implementation, from source
    implementation = text.split("## Implementation", 1)[1]
    assert "def lerp(start, end, weight):" in implementation  # with the shared helpers it uses
    assert "@optimizer(" not in implementation and "summary=" not in implementation  # but not the card again
    assert 'class="arithmatex"' in html
    # The & of an aligned environment reaches MathJax as "&" (HTML-escaped once), never as "amp;".
    assert r"m_t &amp;= \beta_1" in raw and "amp;amp;" not in raw


def tree_digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_clean_builds_are_byte_identical(small_site, tmp_path):
    other = make_project(tmp_path / "again")
    result = run_cli("build", "--quiet", "--jobs", "1", cwd=other, cache=other / ".cache")
    assert result.returncode == 0, result.stderr
    first, second = tree_digest(small_site / "docs" / "gallery"), tree_digest(other / "docs" / "gallery")
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_no_change_rebuild_writes_nothing(small_site):
    before = {p: p.stat().st_mtime_ns for p in (small_site / "docs" / "gallery").rglob("*") if p.is_file()}
    result = run_cli("build", "--quiet", cwd=small_site, cache=small_site / ".cache")
    assert result.returncode == 0, result.stderr
    assert "(0 computed), 0 files written" in result.stdout
    after = {p: p.stat().st_mtime_ns for p in (small_site / "docs" / "gallery").rglob("*") if p.is_file()}
    changed = [str(p) for p in before if before[p] != after.get(p)]
    assert changed == []


def test_the_site_links_the_gallery_files_instead_of_copying_them(small_site):
    gallery, site = small_site / "docs" / "gallery", small_site / "site" / "gallery"
    files = [p for folder in ("embeds", "thumbs", "assets") for p in (gallery / folder).rglob("*") if p.is_file()]
    assert len(files) > 50 and all((site / p.relative_to(gallery)).samefile(p) for p in files)
    assert (site / "index.html").is_file() and not (site / "index.html").samefile(gallery / "index.md")


HOSTILE = "<script>alert(1)</script> \"quotes\" 'single' *bold* [link](http://x) `code`"


@pytest.fixture
def hostile_optimizer():
    adam = optimizers.CATALOGUE["adam"]
    optimizers.CATALOGUE["evil"] = optimizers.Optimizer(
        name="evil", title=HOSTILE, factory=adam.factory, summary=HOSTILE,
        latex=r"\begin{aligned} a &= 1 \end{aligned} <script>alert(1)</script>", pseudocode=HOSTILE,
        paper=optimizers.Paper(HOSTILE, HOSTILE, 2024, "https://example.org"), equivalent="none",
        notes=(HOSTILE,))
    yield
    del optimizers.CATALOGUE["evil"]


def test_hostile_text_is_escaped(hostile_optimizer, tmp_path):
    project = make_project(tmp_path / "hostile", SMALL_CONFIG.replace('"sgd", "momentum", "adam", "newton"', '"evil"')
                           .replace('description = "A small gallery for the tests."',
                                    "description = '''" + HOSTILE + "'''"))
    settings = config.load(project / "gallery.toml")
    build.build_gallery(settings, project / "docs", jobs=1, quiet=True, cache_dir=project / ".cache")
    build.build_site(project)
    checked = 0
    for path in html_files(project / "site"):
        text = path.read_text()
        assert "<script>alert(1)</script>" not in text, path
        checked += "alert(1)" in text
    assert checked >= 2
    page = (project / "site" / "gallery" / "optimizers" / "evil.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<strong>bold</strong>" not in page and 'href="http://x"' not in page


def test_failed_build_leaves_previous_gallery_untouched(small_site, monkeypatch):
    gallery = small_site / "docs" / "gallery"
    before, site_before = tree_digest(gallery), tree_digest(small_site / "site")
    settings = config.load(small_site / "gallery.toml")

    def broken(cell):
        raise RuntimeError("figure failed")

    started = []
    monkeypatch.setattr(build, "SiteBuild", lambda *args, site=build.SiteBuild: started.append(site(*args)) or started[-1])
    monkeypatch.setitem(embeds.KINDS, "pair", dataclasses.replace(embeds.KINDS["pair"], figure=broken))
    with pytest.raises(RuntimeError):
        build.build_gallery(settings, small_site / "docs", jobs=1, quiet=True, cache_dir=small_site / ".cache",
                            site=True)
    # MkDocs had started on the new pages (the figures come after them), and was stopped
    assert len(started) == 1 and started[0].process.returncode is not None
    assert tree_digest(gallery) == before and tree_digest(small_site / "site") == site_before
    assert not list(small_site.glob(".gallery-tmp-*")) and not list((small_site / "docs").glob(".gallery-tmp-*"))


def test_killed_build_leaves_previous_gallery_and_site_intact(tmp_path):
    project = make_project(tmp_path / "kill", SMALL_CONFIG.replace("steps = 80", "steps = 2000"))
    small = make_project(tmp_path / "first")
    # A first, quick build to have something to protect.
    assert run_cli("build", "--site", "--quiet", cwd=small, cache=small / ".cache").returncode == 0
    shutil.copytree(small / "docs" / "gallery", project / "docs" / "gallery")
    shutil.copytree(small / "site", project / "site")
    gallery_before, site_before = tree_digest(project / "docs" / "gallery"), tree_digest(project / "site")
    process = subprocess.Popen([sys.executable, "-m", "gallery_builder", "build", "--site", "--quiet", "--jobs", "1"],
                               cwd=project, env=cli_env(project / ".cache"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(3)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert tree_digest(project / "docs" / "gallery") == gallery_before
    assert tree_digest(project / "site") == site_before
    # The next build cleans the dead build's staging folder.
    assert run_cli("build", "--quiet", cwd=small, cache=small / ".cache").returncode == 0


@pytest.mark.slow
def test_a_site_that_fails_to_build_leaves_the_previous_one(tmp_path):
    project = make_project(tmp_path / "broken")
    assert run_cli("build", "--site", "--quiet", cwd=project, cache=project / ".cache").returncode == 0
    site_before = tree_digest(project / "site")
    (project / "docs" / "broken.md").write_text("# Broken\n\n[a page that is not there](missing.md)\n")
    result = run_cli("build", "--site", "--quiet", cwd=project, cache=project / ".cache")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "mkdocs build --strict failed" in lines[0] and "missing.md" in lines[0], lines
    assert tree_digest(project / "site") == site_before
    assert not list(project.glob(".gallery-tmp-*"))  # neither the site's staging nor MkDocs' stand-in docs


def test_editing_one_optimizer_recomputes_only_its_cells(tmp_path, monkeypatch):
    settings = config.parse({"sweep": {"optimizers": ["sgd", "adam"], "functions": ["booth", "matyas", "beale"],
                                       "steps": 20, "basin_grid": 3,
                                       "learning_rates": {"per_decade": 1, "decades_below": 0, "decades_above": 1,
                                                          "limit_below": 0, "limit_above": 1}}})
    first = sweep.run_sweep(settings, jobs=1, cache_dir=tmp_path, quiet=True)
    assert (first.computed, first.cached) == (6, 0)
    # An author edits adam's definition (same maths, different code): only adam's cells are recomputed.
    source = ("def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
              "    return _adam(lr, beta1, beta2, eps=eps)\n")
    filename = "<edited adam>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), vars(optimizers.adam), namespace)
    monkeypatch.setitem(optimizers.CATALOGUE, "adam",
                        dataclasses.replace(optimizers.CATALOGUE["adam"], factory=namespace["adam"]))
    second = sweep.run_sweep(settings, jobs=1, cache_dir=tmp_path, quiet=True)
    assert (second.computed, second.cached) == (3, 3)
    for pair, cell in second.cells.items():
        assert (second.keys[pair] != first.keys[pair]) == (pair[0] == "adam")
        np.testing.assert_array_equal(cell.runs.points, first.cells[pair].runs.points)


SITE_BUDGET = 150e6  # bytes that mkdocs gh-deploy pushes: 119.3 MB measured (docs/design/site-size.md)


def test_default_gallery_builds_within_the_size_budget(default_site):
    """The whole default gallery: strict MkDocs build, plotly.js once, median embed <= 150 KB, largest <= 600 KB,
    the whole site within its budget (each file once, as scripts/bench_size.py counts it)."""
    project = default_site
    gallery = project / "docs" / "gallery"
    sizes = sorted(p.stat().st_size for p in (gallery / "embeds").glob("*.html"))
    files = {p.stat().st_ino: p.stat().st_size for p in (project / "site").rglob("*") if p.is_file()}
    assert sum(files.values()) <= SITE_BUDGET and not list((gallery / "embeds").glob("*.json"))
    settings = config.Settings()
    cells = sweep.run_sweep(settings, jobs=1, cache_dir=project / ".cache", quiet=True).cells
    made = {kind: embeds.subjects(kind, settings, cells) for kind in embeds.KINDS.values()}
    assert len(sizes) == sum(len(found) for found in made.values())
    assert sizes[len(sizes) // 2] <= 150 * 1024
    assert sizes[-1] <= 600 * 1024
    assert len(list(project.joinpath("site").rglob("plotly*.js"))) == len(embeds.BUNDLES)
    thumbs = list((gallery / "thumbs").glob("*.png"))
    assert len(thumbs) == sum(len(found) for kind, found in made.items() if kind.thumbnail) and max(p.stat().st_size for p in thumbs) <= 40 * 1024
    for path in thumbs:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Generated per-cell sections stay out of the search index that every first visit fetches.
    index = json.loads((project / "site" / "search" / "search_index.json").read_text())
    sections = {doc["location"].partition("#")[2] for doc in index["docs"]}
    assert "update-rule" in sections and not {"on-each-test-function", "leaderboard", "basins"} & sections
    assert "On each test function" in (project / "site" / "gallery" / "optimizers" / "adam.html").read_text()


def test_thumbnail_of_a_run_with_a_huge_jump():
    """A diverging step can be 1e12 pixels long: only its visible part is drawn."""
    from gallery_builder import thumbnails

    fn = functions.get("beale")
    points = np.array([fn.start, (1.5, 1.6), (4e11, -3e11), (1e300, 1e300)])
    png = thumbnails.thumbnail(fn, points)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 40 * 1024


def test_a_thumbnail_decodes_to_its_pixels():
    from gallery_builder import thumbnails

    indices = np.random.default_rng(0).integers(0, thumbnails.MIN_INDEX + 1, (thumbnails.HEIGHT, thumbnails.WIDTH))
    indices[:, 100:] = 7  # a flat band
    png = thumbnails.encode_png(indices, thumbnails._palette("#123456"))
    chunks, at = {}, 8
    while at < len(png):
        size, kind = int.from_bytes(png[at:at + 4], "big"), png[at + 4:at + 8]
        chunks[kind] = png[at + 8:at + 8 + size]
        at += 12 + size
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, colour) == (thumbnails.WIDTH, thumbnails.HEIGHT, 8, 3)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 1).all()  # Sub: a pixel is the sum of its row's bytes up to it, mod 256
    assert (np.cumsum(rows[:, 1:], axis=1, dtype=np.uint64) % 256 == indices).all()


def test_an_escaped_run_is_marked_where_it_leaves_the_plot():
    settings = config.parse({"sweep": {"optimizers": ["sgd"], "functions": ["rosenbrock"], "steps": 30,
                                       "basin_grid": 2, "learning_rates": {"per_decade": 1, "decades_below": 0, "decades_above": 3,
                                                                             "limit_above": 3}}})
    cell = sweep.compute_cell("sgd", "rosenbrock", settings)
    escaped = [i for i, s in enumerate(cell.runs.status) if s == ESCAPED]
    assert escaped
    fn = figures.functions.get("rosenbrock")
    low, high = fn.box()
    ends = [t for t in figures.pair(cell)["data"] if t.get("name") == "end"]
    for i in escaped:
        x, y = ends[i]["x"][0], ends[i]["y"][0]
        assert low[0] - 1e-9 <= x <= high[0] + 1e-9 and low[1] - 1e-9 <= y <= high[1] + 1e-9  # visible
        on_edge = min(abs(x - low[0]), abs(x - high[0]), abs(y - low[1]), abs(y - high[1]))
        assert on_edge < 1e-9 and "last seen at" in ends[i]["hovertemplate"]


def test_learning_rate_by_momentum_maps(small_site):
    """Each map square is the run at that (value, lr): checked against a direct run of the engine."""
    settings = config.load(small_site / "gallery.toml")
    report = sweep.run_sweep(settings, jobs=1, cache_dir=small_site / ".cache", quiet=True)
    cell = report.cells[("momentum", "rosenbrock")]
    axis = cell.second
    assert axis.name == "momentum" and axis.status.shape == (len(axis.values), len(cell.lrs))
    figure = figure_of(small_site / "docs" / "gallery" / "embeds" / "lrmap--momentum--rosenbrock.html")
    heat = figure["data"][0]
    assert len(heat["z"]) == len(axis.values) and len(heat["z"][0]) == len(cell.lrs)
    fn = figures.functions.get("rosenbrock")
    opt = optimizers.get("momentum")
    from gallery_builder.engine import run_batch

    row = 1
    direct = run_batch(opt, fn, [cell.start] * len(cell.lrs), settings.steps_for(cell.function),
                       {**cell.hyperparameters, "momentum": float(axis.values[row]), "lr": cell.lrs})
    np.testing.assert_array_equal(direct.status, axis.status[row])
    for col, status in enumerate(direct.status):
        failed = status in (DIVERGED, ESCAPED)
        assert (heat["z"][row][col] is None) == failed
        assert (heat["text"][row][col] == "✗") == failed
    assert not (small_site / "docs" / "gallery" / "embeds" / "lrmap--sgd--rosenbrock.html").exists()  # no axis


def test_the_navigation_lists_every_optimizer_and_function_in_the_readers_order():
    """The reader's path first (tour, answers, pictures, reference), author pages last."""
    import yaml

    text = (ROOT / "mkdocs.yml").read_text()
    nav = yaml.safe_load(text[text.index("\nnav:"):text.index("\ntheme:")])["nav"]
    titles = [next(iter(entry)) for entry in nav]
    assert titles == ["Start here", "Which optimizer when", "Gallery", "Comparison", "Side by side", "Optimizers",
                      "Functions", "Methodology", "Glossary", "Add your own", "Benchmarks", "Design records"]

    def pages(entries):
        for entry in entries:
            value = entry if isinstance(entry, str) else next(iter(entry.values()))
            yield from pages(value) if isinstance(value, list) else [value]

    listed = list(pages(nav))
    assert sorted(p for p in listed if p.startswith("gallery/optimizers/")) == sorted(
        f"gallery/optimizers/{o}.md" for o in optimizers.CATALOGUE)
    assert sorted(p for p in listed if p.startswith("gallery/functions/")) == sorted(
        f"gallery/functions/{f}.md" for f in functions.CATALOGUE)
    assert all((ROOT / "docs" / p).is_file() for p in listed if not p.startswith("gallery/"))


def test_thumbnails_are_drawn_at_twice_the_size_pages_show_them(small_site):
    gallery = (small_site / "site" / "gallery" / "index.html").read_text()
    sizes = set(re.findall(r'<img[^>]*src="[^"]*thumbs/pair--[^"]*"[^>]*>', gallery))
    assert sizes and all('width="240"' in tag and 'height="180"' in tag for tag in sizes)
    png = next((small_site / "site" / "gallery" / "thumbs").glob("pair--*.png")).read_bytes()
    assert struct.unpack(">II", png[16:24]) == (480, 360)


def test_every_function_page_and_the_home_tour_link_to_the_playground(small_site):
    """Swept or not, every function page links into the playground (swept ones from their basin maps' words too),
    and so does the home page's tour."""
    site = small_site / "site"

    def article(path):  # the page's own text: the navigation links to the playground from every page
        text = path.read_text(encoding="utf-8")
        return text[text.index("<article"):text.index("</article>")]

    pages = sorted((site / "gallery" / "functions").glob("*.html"))
    assert len(pages) == 16
    for page in pages:
        assert re.search(r'href="\.\./playground\.html(\?f=\w+)?"', article(page)), page.name
    assert re.search(r'Your own start.*href="gallery/playground\.html"', article(site / "index.html"), re.S)

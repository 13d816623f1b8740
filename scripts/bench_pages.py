"""Page weight and first plot: what a first visit (empty cache) of a sample of pages fetches, and when its first
figure is drawn, in Chromium through Playwright, from the built site served on 127.0.0.1.

Bytes are the files the browser received on a first visit of the page's top (the local server sends them as they
are, so they are read from disk), uncompressed, and the sum of each file gzipped at level 6, which is what a server
that compresses would send. Embeds load as they come within a screen of the viewport, so a page whose figures are
further down fetches none of them on that visit. "First plot" is measured on more first visits, of the link to
the section that holds the page's first figure (the figure then in view): the time from the start of navigation to
the moment the first embed marks its Plotly graph drawn (none: the page has no embed), and, on traced visits (tracing
slows the page down, so they are not timed), the CPU time the page's main thread (which same-origin embeds share)
spent until then. Wall times depend on what else the machine runs, the CPU time much less.

Run: .venv/bin/python scripts/bench_pages.py [--site site] [--site before=/path/to/site ...] [--phone]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import json
import re
import statistics
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
SAMPLE = {"home": "index.html", "optimizer": "gallery/optimizers/adam.html",
          "function": "gallery/functions/rosenbrock.html", "gallery": "gallery/index.html",
          "comparison": "gallery/comparison.html"}
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
BUDGET = {"bytes": 3_000_000, "gzip": 1_000_000}  # bytes; first plot within 1.5 s (measured here, not tested)

# Resolves with the ms from the start of navigation to the moment the first embed marked its figure drawn (read from
# the mark, not from when the poll sees it: Playwright returns from goto after the load event, which the next embeds
# delay); null at once when the page has no embed, or after 30 s.
FIRST_PLOT = """() => new Promise(resolve => {
    if (!document.querySelector('.og-embed')) return resolve(null);
    const deadline = performance.now() + 30000;
    (function poll() {
        const times = [];
        for (const frame of document.querySelectorAll('iframe.og-embed')) {
            const clock = frame.contentWindow && frame.contentWindow.performance;  // embed.js marks its figure drawn
            const ready = clock && clock.getEntriesByName('og-ready')[0];
            if (ready) times.push(clock.timeOrigin + ready.startTime - performance.timeOrigin);
            // An older build without the mark: when the poll sees the figure drawn (later than it was).
            else if (frame.contentDocument && frame.contentDocument.querySelector('#figure[data-ready=true]')) {
                times.push(performance.now());
            }
        }
        if (times.length) return resolve(Math.min(...times));
        if (performance.now() > deadline) return resolve(null);
        setTimeout(poll, 20);
    })();
})"""


def main_thread_cpu(trace: bytes, url: str, until_ms: float) -> float:
    """Seconds of thread CPU time the renderer's main thread (which same-origin embeds share) spent in tasks from the
    start of the navigation to ``url`` until ``until_ms`` after it; a task running at that moment counts in
    proportion."""
    events = json.loads(trace)["traceEvents"]
    start, main = next((e["ts"], (e["pid"], e["tid"])) for e in events if e.get("name") == "navigationStart"
                       and e["args"]["data"].get("documentLoaderURL") == url)
    end = start + until_ms * 1000
    total = 0.0
    for e in events:
        if (e.get("name") == "ThreadControllerImpl::RunTask" and e.get("ph") == "X" and (e["pid"], e["tid"]) == main
                and e["ts"] < end):
            if e["ts"] + e["dur"] < start:
                continue
            inside = (min(end, e["ts"] + e["dur"]) - max(start, e["ts"])) / max(e["dur"], 1)
            total += e.get("tdur", e["dur"]) * inside
    return total / 1e6


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the browser closing a connection early is no news
        pass


@contextlib.contextmanager
def serve(site: Path):
    """A plain static server for ``site`` on a free port of 127.0.0.1; yields its base URL."""
    httpd = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


def first_figure_section(html: str) -> str | None:
    """The id of the heading above a page's first embed, for a link that opens the page at that figure."""
    frame = html.find('class="og-embed"')
    if frame < 0:
        return None
    ids = re.findall(r'<h[1-6][^>]* id="([^"]+)"', html[:frame])
    return ids[-1] if ids else None


@functools.lru_cache(maxsize=None)
def sizes(path: Path) -> tuple:
    """A served file's bytes and gzipped bytes (the same bundles recur on every page: compress each once)."""
    body = path.read_bytes()
    return len(body), len(gzip.compress(body, 6, mtime=0))


def measure(browser, base: str, path: str, site: Path, viewport: dict = DESKTOP, plot: bool = False,
            trace: bool = False) -> dict:
    """One first visit of ``base + path`` in a fresh context (empty cache), where ``base`` serves the folder
    ``site``: bytes, gzip bytes, files fetched, console errors and, with ``plot``, the first plot (s) and, with
    ``trace`` too, the main thread's CPU time until then (tracing slows the page, so time a first plot without it).
    ``path`` may end in #section."""
    context = browser.new_context(viewport=viewport)
    urls, problems = [], []
    context.on("response", lambda response: response.status == 200 and urls.append(response.url))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    traced = plot and trace
    if traced:
        browser.start_tracing(page=page, categories=["toplevel", "blink.user_timing", "devtools.timeline"])
    try:
        page.goto(base + path, wait_until="load")
        first = page.evaluate(FIRST_PLOT) if plot else None
        page.wait_for_load_state("networkidle")
    finally:
        events = browser.stop_tracing() if traced else None
        context.close()
    files = {}
    for url in urls:
        if not url.startswith(base):
            if not url.startswith("data:"):
                problems.append(f"fetched from outside the site: {url}")
            continue
        files[url] = sizes(site / unquote(urlsplit(url).path[len(urlsplit(base).path):]))
    return {"bytes": sum(b for b, _ in files.values()), "gzip": sum(g for _, g in files.values()), "files": files,
            "first_plot": None if first is None else first / 1000,
            "cpu": None if first is None or events is None else main_thread_cpu(events, base + path, first),
            "problems": problems}


def measure_site(site: Path, pages: dict = SAMPLE, viewport: dict = DESKTOP, repeat: int = 3) -> dict:
    """Each page of the sample visited once at its top (the bytes of a first visit) and ``repeat`` times at its first
    figure, alternately traced (the median CPU time) and not (the median first plot)."""
    from playwright.sync_api import sync_playwright

    out = {}
    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for name, path in pages.items():
                visit = measure(browser, base, path, site, viewport)
                section = first_figure_section((site / path).read_text(encoding="utf-8"))
                runs = [measure(browser, base, f"{path}#{section}", site, viewport, plot=True, trace=traced)
                        for _ in range(repeat if section else 0) for traced in (False, True)]
                times = [r["first_plot"] for r in runs if r["first_plot"] is not None and r["cpu"] is None]
                cpu = [r["cpu"] for r in runs if r["cpu"] is not None]
                out[name] = {**visit, "path": path, "first_plot": statistics.median(times) if times else None,
                             "cpu": statistics.median(cpu) if cpu else None,
                             "at_figure": runs[0]["bytes"] if runs else None,
                             "problems": visit["problems"] + [p for r in runs for p in r["problems"]]}
        finally:
            browser.close()
    return out


def heaviest(files: dict, n: int = 2) -> str:
    top = sorted(files.items(), key=lambda item: -item[1][0])[:n]
    return ", ".join(f"{url.rsplit('/', 1)[-1]} {size / 1e6:.2f} MB" for url, (size, _) in top)


def table(results: dict) -> str:
    """A Markdown table: one row per (site label, page)."""
    rows = ["| site | page | fetched (MB) | gzip (MB) | files | first plot (s) | main-thread CPU until then (s) "
            "| fetched, opened at the first figure (MB) | heaviest files |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, pages in results.items():
        for name, r in pages.items():
            plot = "no plot" if r["first_plot"] is None else f"{r['first_plot']:.2f}"
            cpu = "–" if r["cpu"] is None else f"{r['cpu']:.2f}"
            at_figure = "–" if r["at_figure"] is None else f"{r['at_figure'] / 1e6:.2f}"
            rows.append(f"| {label} | {name} | {r['bytes'] / 1e6:.2f} | {r['gzip'] / 1e6:.2f} | {len(r['files'])} "
                        f"| {plot} | {cpu} | {at_figure} | {heaviest(r['files'])} |")
    return "\n".join(rows)


def main(sites: dict | None = None, viewport: dict = DESKTOP, repeat: int = 3) -> dict:
    sites = sites or {"this build": ROOT / "site"}
    results = {label: measure_site(Path(path), viewport=viewport, repeat=repeat) for label, path in sites.items()}
    print(table(results))
    for label, pages in results.items():
        for name, r in pages.items():
            if r["problems"]:
                print(f"{label} {name}: {len(r['problems'])} console errors, first: {r['problems'][0]}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="append", default=[], metavar="[LABEL=]DIR",
                        help="a built site (default: site/); repeat to compare, e.g. before=/tmp/old/site")
    parser.add_argument("--phone", action="store_true", help="a 390 × 844 viewport instead of 1280 × 900")
    parser.add_argument("--repeat", type=int, default=3,
                        help="visits per page at its first figure, each once traced and once not; medians are shown")
    args = parser.parse_args()
    chosen = dict(s.split("=", 1) if "=" in s else (s, s) for s in args.site) or None
    main(chosen, PHONE if args.phone else DESKTOP, args.repeat)

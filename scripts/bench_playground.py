"""The playground in Chromium: the compute time of 4 optimizers × 1,000 steps after a click on the map (target ≤ 16
ms, one animation frame), and what a first visit of the page fetches (target ≤ 3 MB).

A click is dispatched on the map at a new start each time; the page's handler reruns the four runs with PG.run and
records how long that took (``ogPlayground.compute``), apart from the redraw, which is reported beside it (the
time from the click to the end of the handler, Plotly's redraw included). Medians over ``--clicks`` clicks, after
one warm-up click; the first click (cold JIT) is reported too. Bytes are the files received on a first visit with
an empty cache, uncompressed and gzipped at level 6, read from the served files.

Run: .venv/bin/python scripts/bench_playground.py [--site site] [--clicks 40] [--setting QUERY]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import statistics
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
PAGE = "gallery/playground.html"
SETTING = "?f=rosenbrock&o=adam,momentum,lbfgs,prodigy&n=1000"  # four optimizers, 1,000 steps each
TARGET_MS, BUDGET = 16.0, 3_000_000

CLICK = """async ([x, y]) => {
    const map = document.querySelector(".og-pg-paths"), L = map._fullLayout, box = map.getBoundingClientRect();
    const at = { clientX: box.left + L.xaxis._offset + L.xaxis.d2p(x), clientY: box.top + L.yaxis._offset + L.yaxis.d2p(y),
                 pointerId: 1, bubbles: true };
    const t0 = performance.now();
    map.dispatchEvent(new PointerEvent("pointerdown", at));
    const handled = performance.now() - t0;
    map.dispatchEvent(new PointerEvent("pointerup", at));
    const P = window.ogPlayground, start = P.state.setting.start;
    if (Math.abs(start[0] - x) > 0.05 || Math.abs(start[1] - y) > 0.05) throw new Error(`the click did not set the start: ${start}`);
    return [P.compute, handled, P.runs.length, Math.max(...P.runs.map((r) => r.last))];
}"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(site: Path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site")
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--setting", default=SETTING, help="the page's query (default: %(default)s)")
    args = parser.parse_args()
    if not (args.site / PAGE).is_file():
        parser.exit(2, f"error: no {PAGE} in {args.site}: build the site first (make site)\n")
    from playwright.sync_api import sync_playwright

    httpd, origin = serve(args.site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            fetched = []
            page.on("requestfinished", lambda r: fetched.append(urlsplit(r.url).path))
            page.goto(f"{origin}/{PAGE}{args.setting}", wait_until="load")
            page.wait_for_function("window.ogPlayground && window.ogPlayground.ready")
            page.evaluate("document.querySelector('.og-pg-paths').scrollIntoView()")
            times = [page.evaluate(CLICK, [-1.5 + 0.02 * i, 2.0 - 0.01 * i]) for i in range(args.clicks + 1)]
            browser.close()
    finally:
        httpd.shutdown()
    files = [args.site / unquote(path).lstrip("/") for path in dict.fromkeys(fetched)]
    raw = sum(f.stat().st_size for f in files if f.is_file())
    packed = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files if f.is_file())
    compute = [t[0] for t in times[1:]]
    handled = [t[1] for t in times[1:]]
    steps = {t[3] for t in times}
    print(f"playground, {times[0][2]} optimizers × up to {max(steps)} steps, {args.clicks} clicks:")
    print(f"  compute after a click: median {statistics.median(compute):.2f} ms, max {max(compute):.2f} ms "
          f"(first, cold: {times[0][0]:.2f} ms); target ≤ {TARGET_MS:g} ms")
    print(f"  compute and redraw (the click's handler): median {statistics.median(handled):.1f} ms")
    print(f"  first visit: {len(files)} files, {raw / 1e6:.2f} MB ({packed / 1e6:.2f} MB gzipped); "
          f"budget {BUDGET / 1e6:g} MB")


if __name__ == "__main__":
    main()

"""Live authoring: an edited explanation shows in the served page, and `gallery-builder watch` rebuilds on a change
to any file a build reads."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from conftest import cli_env
from test_incremental import build, make_tree


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


class Output:
    """The lines a process writes, read as they come (so that its pipe never fills), with when each came."""

    def __init__(self, stream):
        self.lines = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.append((time.monotonic(), line))

    def since(self, moment: float) -> list:
        return [line for at, line in self.lines if at >= moment]


@pytest.fixture
def process():
    started = []

    def start(args, cwd, cache=None, env=None):
        started.append(subprocess.Popen(args, cwd=cwd, env={**cli_env(cache), **(env or {})},
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        return started[-1]

    yield start
    for p in started:
        p.terminate()
        p.wait(timeout=10)


def test_an_edited_explanation_shows_under_make_serve_after_one_mkdocs_build(small_site, process):
    """What `make serve` runs: the watcher renders the explanation into the page, MkDocs serves it after one build
    (the raw explanation, which MkDocs excludes, does not make a build of its own), and requests outside the site
    that 404 while it rebuilds do not abort that build."""
    port = free_port()
    watcher = process([sys.executable, "-m", "gallery_builder", "watch", "--quiet"], cwd=small_site,
                      cache=small_site / ".cache")
    assert "watching" in watcher.stdout.readline()
    mkdocs = Output(process([sys.executable, "-m", "gallery_builder.site_build", "serve", "--livereload",
                             "--dev-addr", f"127.0.0.1:{port}"], cwd=small_site).stdout)
    url = f"http://127.0.0.1:{port}/optimizer-gallery/gallery/optimizers/adam.html"
    assert wait_for(lambda: "At the best learning rate" in fetch(url), timeout=60)
    explanation = small_site / "docs" / "explanations" / "optimizers" / "adam.md"
    original = explanation.read_text()
    stop = threading.Event()

    def outside():  # what a browser tab left on another site's URL asks for
        while not stop.wait(0.2):
            fetch(f"http://127.0.0.1:{port}/elsewhere/missing.js")

    threading.Thread(target=outside, daemon=True).start()
    try:
        # A measured number filled in from a run, as explanations do.
        explanation.write_text(original + '\nAn author measures: on the saddle SGD {{ run("sgd", "saddle", 1.0)'
                               '.leaves }}.\n')
        edited = time.monotonic()
        assert wait_for(lambda: "An author measures: on the saddle SGD leaves at step 10." in fetch(url),
                        timeout=90), mkdocs.since(edited)
        shown = time.monotonic() - edited
        # The watcher rebuilds the pages (no cell is recomputed), then MkDocs rebuilds the small site once.
        assert "(0 computed)" in watcher.stdout.readline()
        time.sleep(2)  # a second build would have started by now
        builds = [line for line in mkdocs.since(edited) if "Building documentation" in line]
        assert len(builds) == 1, mkdocs.since(edited)
        assert not [line for line in mkdocs.since(edited) if "Aborted" in line or "ERROR" in line]
        print(f"explanation edit shown after {shown:.1f} s")  # a figure, not a limit: the machine may be busy
    finally:
        stop.set()
        explanation.write_text(original)


def test_watch_rebuilds_when_an_optimizer_module_changes(tmp_path, process):
    """An edit under gallery_builder/optimizers/ (a project with its own copy of the package) reaches the page."""
    project = make_tree(tmp_path / "project")
    build(project, tmp_path / "cache")
    watcher = process([sys.executable, "-m", "gallery_builder", "watch", "--quiet"], cwd=project,
                      cache=tmp_path / "cache", env={"PYTHONPATH": str(project)})
    assert "watching" in watcher.stdout.readline()
    module = project / "gallery_builder" / "optimizers" / "sgd.py"
    module.write_text(module.read_text().replace("Heavy-ball momentum: keep a running sum",
                                                 "Heavy-ball momentum, edited while serving: keep a running sum"))
    page = project / "docs" / "gallery" / "optimizers" / "momentum.md"
    assert wait_for(lambda: "edited while serving" in page.read_text(), timeout=60)
    assert watcher.stdout.readline().startswith("rebuilt in")


def test_watch_rebuilds_the_gallery_when_the_config_changes(small_site, process):
    config = small_site / "gallery.toml"
    original = config.read_text()
    watcher = process([sys.executable, "-m", "gallery_builder", "watch", "--quiet"], cwd=small_site,
                      cache=small_site / ".cache")
    assert "watching" in watcher.stdout.readline()
    page = small_site / "docs" / "gallery" / "index.md"
    try:
        config.write_text(original.replace("A small gallery for the tests.", "Edited while serving."))
        assert wait_for(lambda: "Edited while serving." in page.read_text(), timeout=30)
        line = watcher.stdout.readline()
        assert line.startswith("rebuilt in") and "(0 computed)" in line  # only the pages changed
    finally:
        config.write_text(original)
        assert wait_for(lambda: "A small gallery for the tests." in page.read_text(), timeout=30)

"""Live authoring: an edited explanation shows in the served page, and `gallery-builder watch` rebuilds on a change."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import cli_env


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


@pytest.fixture
def process():
    started = []

    def start(args, cwd, cache=None):
        started.append(subprocess.Popen(args, cwd=cwd, env=cli_env(cache), stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True))
        return started[-1]

    yield start
    for p in started:
        p.terminate()
        p.wait(timeout=10)


def test_an_edited_explanation_shows_under_make_serve(small_site, process):
    """What `make serve` runs: the watcher renders the explanation into the page, MkDocs serves it."""
    port = free_port()
    watcher = process([sys.executable, "-m", "gallery_builder", "watch", "--quiet"], cwd=small_site,
                      cache=small_site / ".cache")
    assert "watching" in watcher.stdout.readline()
    process([sys.executable, "-m", "mkdocs", "serve", "--livereload", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=small_site)
    url = f"http://127.0.0.1:{port}/optimizer-gallery/gallery/optimizers/adam.html"
    assert wait_for(lambda: "At the best learning rate" in fetch(url), timeout=60)
    explanation = small_site / "docs" / "explanations" / "optimizers" / "adam.md"
    original = explanation.read_text()
    try:
        # A measured number filled in from a run, as explanations do.
        explanation.write_text(original + '\nAn author measures: on the saddle SGD {{ run("sgd", "saddle", 1.0)'
                               '.leaves }}.\n')
        edited = time.monotonic()
        assert wait_for(lambda: "An author measures: on the saddle SGD leaves at step 10." in fetch(url), timeout=30)
        # The watcher rebuilds the pages (no cell is recomputed), then MkDocs rebuilds the small site.
        assert time.monotonic() - edited < 15
        assert "(0 computed)" in watcher.stdout.readline()
    finally:
        explanation.write_text(original)


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

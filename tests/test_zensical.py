"""Zensical, Material for MkDocs' successor, builds the same generated docs/ with the same mkdocs.yml, and its
output passes the same link check as MkDocs' (see the README for the versions checked)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_site import broken_links

ZENSICAL = Path(sys.executable).with_name("zensical")


@pytest.fixture(scope="module")
def zensical_site(small_site, tmp_path_factory) -> Path:
    if not ZENSICAL.exists():
        pytest.fail(f"{ZENSICAL} missing: zensical is a dev dependency (pip install -e '.[dev]')", pytrace=False)
    project = tmp_path_factory.mktemp("zensical")
    shutil.copy(small_site / "mkdocs.yml", project)
    shutil.copytree(small_site / "docs", project / "docs")
    result = subprocess.run([str(ZENSICAL), "build", "--clean", "--strict"], cwd=project, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No issues found" in result.stdout + result.stderr
    return project / "site"


def test_zensical_builds_every_page_with_no_broken_link(zensical_site, small_site):
    mkdocs_pages = {p.relative_to(small_site / "site") for p in (small_site / "site").rglob("*.html")}
    zensical_pages = {p.relative_to(zensical_site) for p in zensical_site.rglob("*.html")}
    assert mkdocs_pages - zensical_pages == set()  # every page and embed, at the same URL
    broken, checked = broken_links(zensical_site)
    assert broken == []
    assert checked > 500


def test_zensical_pages_keep_the_figures_and_math(zensical_site):
    page = (zensical_site / "gallery" / "optimizers" / "adam.html").read_text()
    assert '<a class="og-embed"' in page and 'class="arithmatex"' in page
    assert "javascripts/math.js" in page and "javascripts/gallery.js" in page
    gallery = (zensical_site / "gallery" / "index.html").read_text()
    assert gallery.count('class="card og-card"') == 12  # the small site's 4 optimizers × 3 functions

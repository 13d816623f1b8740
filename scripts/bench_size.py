"""Site size: the bytes a deploy pushes (``mkdocs gh-deploy`` commits all of site/), by kind of file.

Each figure kind's embeds (.html) and data downloads (.json, until downloads were made in the browser from the
embed's own numbers), thumbnails, the shared assets (plotly.js bundles, KaTeX, embed.js), the pages and the rest.
Sizes are file sizes summed (a file hard-linked twice counts once), in MB of 10^6 bytes.

Run: .venv/bin/python scripts/bench_size.py [--site site] [--site before=/path/to/site ...]

Measured on the default gallery (28 optimizers × 16 functions, 3,074 embeds), `gallery-builder build --site`:
before (main at 2f696a2) 605.1 MB, of which 334.0 MB JSON downloads and 257.2 MB embeds; after (downloads written by
embed.js from the embed's numbers, landscapes shared; h2-light merged with main at dfb9437) 253.5 MB, of which
239.4 MB embeds (79.5 MB of them download records) and 0.8 MB landscape files; then (embeds' JSON packed:
typed arrays byte-shuffled after it, deflated, embeds.packed, h8-size with main at 4e18ee3) 119.3 MB, of which
101.3 MB embeds (docs/design/site-size.md).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def kind_of(path: Path, site: Path) -> str:
    parts = path.relative_to(site).parts
    if "embeds" in parts:
        return f"{path.name.split('--')[0]} {'downloads' if path.suffix == '.json' else 'embeds'}"
    if "thumbs" in parts:
        return "thumbnails"
    if "assets" in parts or "javascripts" in parts or "stylesheets" in parts:
        return "assets"
    if path.suffix == ".html":
        return "pages"
    return "search index" if path.name == "search_index.json" else "other"


def sizes(site: Path) -> Counter:
    seen, by_kind = set(), Counter()
    for path in site.rglob("*"):
        if path.is_file() and (stat := path.stat()).st_ino not in seen:
            seen.add(stat.st_ino)
            by_kind[kind_of(path, site)] += stat.st_size
    return by_kind


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", action="append", help="NAME=PATH or PATH (default: site)")
    args = parser.parse_args()
    sites = dict(s.split("=", 1) if "=" in s else (s, s) for s in args.site or ["site"])
    measured = {name: sizes(Path(path)) for name, path in sites.items()}
    kinds = sorted(set().union(*measured.values()), key=lambda k: -max(m[k] for m in measured.values()))
    print(f"{'MB':<28}" + "".join(f"{name:>14}" for name in measured))
    for row in [*kinds, "total"]:
        cells = [sum(m.values()) if row == "total" else m[row] for m in measured.values()]
        print(f"{row:<28}" + "".join(f"{c / 1e6:>14.1f}" for c in cells))
    for name, m in measured.items():
        embeds = sum(v for k, v in m.items() if k.endswith(" embeds"))
        downloads = sum(v for k, v in m.items() if k.endswith(" downloads"))
        print(f"{name}: {sum(m.values()) / 1e6:.1f} MB, of which embeds {embeds / 1e6:.1f} MB and downloads "
              f"{downloads / 1e6:.1f} MB")
    return measured


if __name__ == "__main__":
    main()

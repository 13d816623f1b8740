"""For each generated sentence of the gallery, how many places write it and how many its predicate turned away,
over the cells of a build (the default gallery unless --config; read from the sweep's cache, computed if missing).

    python scripts/sentence_counts.py [--config gallery.toml] [--jobs 2] [--show TEMPLATE]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from gallery_builder import config, extras, functions, results, sweep
from gallery_builder.errors import UserError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="a gallery.toml (default: the default gallery)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--show", action="append", default=[], help="list the places of this template")
    args = parser.parse_args()
    try:
        settings = config.load(args.config) if args.config else config.Settings()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    cells = sweep.run_sweep(settings, jobs=args.jobs, quiet=True).cells
    families = extras.run_extras(settings, cells, None, sweep.default_cache_dir()).families
    found = results.verdicts(cells, [functions.get(n) for n in settings.functions], settings.tolerance, families)
    written = Counter(name for name, *_, ok in found if ok)
    turned = Counter(name for name, *_, ok in found if not ok)
    print(f"{'template':38} {'written':>8} {'turned away':>12}")
    for name in results.TEMPLATES:
        print(f"{name:38} {written[name]:8d} {turned[name]:12d}")
    print(f"{'total':38} {sum(written.values()):8d} {sum(turned.values()):12d}")
    for name in args.show:
        for template, optimizer, function, ok in found:
            if template == name:
                print(f"{name}: {optimizer or '–'} on {function}: {'written' if ok else 'turned away'}")


if __name__ == "__main__":
    main()

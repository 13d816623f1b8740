"""Which cells' best learning rate is an artefact of rounding: the exact constant-rate search of every cell of the
default gallery, run again from the function's start moved by one ulp in each coordinate.

A cell is printed when the two searches choose different learning rates, with the best lr and its final gap in each.
Such a choice rests on a run whose end is chaotic in its start: a last-bit change of the start (or of f) moves it.
Run: .venv/bin/python scripts/check_fragile.py [--jobs N]  (about 1 minute on 2 cores)
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gallery_builder import functions, optimizers, sweep  # noqa: E402
from gallery_builder.config import Settings  # noqa: E402


def fragile_cells(name: str) -> tuple:
    """(cells searched, [(optimizer, (lr, gap) from the start, (lr, gap) from the nudged start)]) on one function."""
    settings, fn = Settings(), functions.get(name)
    names = [o for o, f in sweep.cell_pairs(settings) if f == name]
    opts = {n: optimizers.get(n) for n in names}
    hypers = {n: settings.cell_hyper(n, name) for n in names}
    start = np.array(settings.start(name), float)
    searches = [sweep.search_learning_rates(fn, opts, hypers, s, settings)
                for s in (start, np.nextafter(start, np.inf))]

    def choice(found):
        lrs, runs, best = found
        return (float(lrs[best]), float(runs.gap[best])) if best >= 0 else (None, None)

    moved = [(n, choice(searches[0][n]), choice(searches[1][n])) for n in names
             if choice(searches[0][n])[0] != choice(searches[1][n])[0]]
    return len(names), moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    total, count = 0, 0
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        for name, (cells, moved) in zip(Settings().functions, pool.imap(fragile_cells, Settings().functions)):
            total += cells
            count += len(moved)
            for optimizer, (lr, gap), (lr_moved, gap_moved) in moved:
                print(f"{name:17} {optimizer:20} best lr {lr:.3g} (gap {gap:.3g}); from one ulp away "
                      f"{lr_moved:.3g} (gap {gap_moved:.3g})" if None not in (lr, lr_moved) else
                      f"{name:17} {optimizer:20} best lr {lr}; from one ulp away {lr_moved}")
    print(f"{count} of {total} cells choose another best learning rate from a start one ulp away")


if __name__ == "__main__":
    main()

"""The cost of the noise and schedule axes: the default build with them against the same build without them
(``[noise] seeds = 0``, ``[sweep] schedules = []``), each in a fresh cache, and the embed sizes of the result.

Run: .venv/bin/python scripts/bench_axes.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from bench import copy_project  # noqa: E402
WITHOUT = '[sweep]\nschedules = []\n\n[noise]\nseeds = 0\n'


def build(project: Path, config: str) -> float:
    (project / "gallery.toml").write_text(config)
    shutil.rmtree(project / ".cache", ignore_errors=True)
    shutil.rmtree(project / "docs" / "gallery", ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(project), "GALLERY_CACHE": str(project / ".cache")}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gallery_builder", "build", "--quiet"], cwd=project, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"build failed:\n{result.stderr}")
    return time.perf_counter() - started


def sizes(project: Path) -> dict:
    """Embed sizes in bytes by kind (the file name's prefix), each with its data download."""
    out = {}
    for path in (project / "docs" / "gallery" / "embeds").glob("*.html"):
        out.setdefault(path.name.split("--")[0], []).append(path.stat().st_size)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        copy_project(project)
        without = build(project, WITHOUT)
        print(f"default build without noise and schedules (empty cache): {without:.1f} s")
        with_axes = build(project, "")
        print(f"default build with noise and schedules (empty cache): {with_axes:.1f} s = {with_axes / without:.2f}×")
        by_kind = sizes(project)
        every = sorted(s for values in by_kind.values() for s in values)
        print(f"embeds: {len(every)}, median {statistics.median(every) / 1e3:.0f} KB, largest {every[-1] / 1e3:.0f} KB")
        for kind, values in sorted(by_kind.items()):
            print(f"  {kind}: {len(values)}, median {statistics.median(values) / 1e3:.0f} KB, "
                  f"largest {max(values) / 1e3:.0f} KB")


if __name__ == "__main__":
    main()

"""Keep the generated gallery up to date while ``mkdocs serve`` runs beside it.

It polls the sources (the package's code and templates, the config file and the explanations, which are rendered
into the pages) and rebuilds in a fresh process on a change, so edited code is really the code that runs. The build
rewrites only files whose bytes changed, so MkDocs' own watcher reloads once per real change. Polling needs no extra dependency and
behaves the same on every filesystem.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _mtime(path: Path):
    try:
        return path.lstat().st_mtime_ns
    except OSError:  # an editor's temporary file that vanished between listing and looking
        return None


def snapshot(docs_dir: Path, config: Path | None) -> dict:
    """What a rebuild depends on, by modification time: sources, settings and explanations."""
    state = {}
    for pattern in ("*.py", "templates/*", "assets/*"):
        for path in PACKAGE.glob(pattern):
            if not path.name.startswith((".", "#")):  # editors' lock and backup files
                state[str(path)] = _mtime(path)
    for path in (config, docs_dir.parent / "mkdocs.yml"):  # mkdocs.yml decides the <iframe src> paths
        if path is not None:
            state[str(path)] = _mtime(path)
    for path in (docs_dir / "explanations").glob("*/*.md"):
        state[str(path)] = _mtime(path)  # rendered into the pages: their numbers come from runs
    return state


def watch(args, docs_dir: Path, interval: float = 0.5) -> None:
    config = Path(args.config) if args.config else Path("gallery.toml")
    command = [sys.executable, "-m", "gallery_builder", "build", "--docs", str(docs_dir), "--quiet"]
    if args.config:
        command += ["--config", args.config]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    seen = snapshot(docs_dir, config)
    print(f"watching {PACKAGE.name}/, {config}, mkdocs.yml and {docs_dir / 'explanations'}/ (Ctrl-C to stop)",
          flush=True)
    while True:
        time.sleep(interval)
        current = snapshot(docs_dir, config)
        if current == seen:
            continue
        seen = current
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode == 0:
            print(f"rebuilt in {time.perf_counter() - started:.1f} s: {result.stdout.strip()}", flush=True)
        else:  # keep serving the previous gallery and say why in one line
            print((result.stderr.strip().splitlines() or ["build failed"])[-1], flush=True)

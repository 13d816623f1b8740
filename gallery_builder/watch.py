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

from .extras import EXPLANATIONS

PACKAGE = Path(__file__).resolve().parent


def _mtime(path: Path):
    try:
        return path.lstat().st_mtime_ns
    except OSError:  # an editor's temporary file that vanished between listing and looking
        return None


def _files(folder: Path):
    """Every file under ``folder``, but not bytecode caches or editors' lock and backup files."""
    for path in folder.rglob("*"):
        if "__pycache__" not in path.parts and not path.name.startswith((".", "#")) and not path.name.endswith("~"):
            yield path


def snapshot(docs_dir: Path, config: Path | None) -> dict:
    """What a rebuild depends on, by modification time: every file of the package (its code, the optimizer and
    function catalogues, templates and assets), the settings, mkdocs.yml (it decides the <iframe src> paths) and
    the explanations, which are rendered into the pages (their numbers come from runs)."""
    paths = [*_files(PACKAGE), *_files(docs_dir / EXPLANATIONS), docs_dir.parent / "mkdocs.yml"]
    if config is not None:
        paths.append(config)
    return {str(path): _mtime(path) for path in paths}


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

"""The build: sweep, figures, embeds and pages into ``docs/gallery``, atomically; optionally the MkDocs site too.

Everything is written into a staging folder beside ``docs/`` and swapped in only once complete, so a failed or
interrupted build leaves the previous gallery (and site) untouched. Files whose inputs did not change (by the keys
in ``manifest.json``) or whose bytes did not change are hard-linked from the previous gallery instead of being
rewritten, so ``mkdocs serve`` sees only what really changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import embeds, pages
from .cache import default_cache_dir
from .errors import UserError
from .extras import run_extras
from .fingerprints import FigureKeys
from .sweep import Progress, make_executor, run_sweep

MANIFEST = "manifest.json"


def use_directory_urls(docs_dir: Path) -> bool:
    """The setting in force in the mkdocs.yml beside docs_dir (MkDocs' default is True)."""
    import yaml

    config = docs_dir.parent / "mkdocs.yml"
    if not config.exists():
        return True

    class Loader(yaml.SafeLoader):
        pass

    def env(loader, node):  # !ENV VAR or !ENV [VAR, ..., default], as MkDocs reads it
        names = [loader.construct_scalar(node)] if isinstance(node, yaml.ScalarNode) else [
            loader.construct_object(n) for n in node.value]
        found = [os.environ[name] for name in names[:-1 if len(names) > 1 else None] if name in os.environ]
        value = found[0] if found else (names[-1] if len(names) > 1 else None)
        return yaml.safe_load(value) if isinstance(value, str) else value

    Loader.add_constructor("!ENV", env)
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # other tags (!!python/name, ...)
    try:
        data = yaml.load(config.read_text(encoding="utf-8"), Loader=Loader) or {}
    except yaml.YAMLError as error:
        raise UserError(f"{config}: not valid YAML: {error}".splitlines()[0]) from None
    return bool(data.get("use_directory_urls", True))


def _katex_files() -> dict:
    """KaTeX (script, style sheet, woff2 fonts, licence) by path under its folder, as vendored; the pages' math.js
    loads it only on pages that have math."""
    root = Path(str(embeds.VENDOR.joinpath("katex")))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _hard_link(old: Path, new: Path) -> None:
    """``new`` as a hard link to ``old`` (a copy where the file systems differ)."""
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, new)
    except OSError:
        shutil.copy2(old, new)


class Staging:
    """Files of the new gallery, reusing the previous gallery's files where inputs or bytes are unchanged."""

    def __init__(self, root: Path, previous: Path):
        self.root, self.previous = root, previous
        try:
            self.old_manifest = json.loads((previous / MANIFEST).read_text())
        except (OSError, ValueError):
            self.old_manifest = {}
        self.manifest, self.written, self.reused = {}, 0, 0

    def _link(self, rel: str) -> bool:
        old = self.previous / rel
        if not old.is_file():
            return False
        _hard_link(old, self.root / rel)
        return True

    def unchanged(self, rel: str, key: str) -> bool:
        """True (and the old file carried over) when ``rel`` was built from the same inputs last time."""
        self.manifest[rel] = key
        reused = self.old_manifest.get(rel) == key and self._link(rel)
        self.reused += reused
        return reused

    def put(self, rel: str, content) -> bool:
        """Writes ``content`` (True), or links the previous gallery's file when its bytes are equal (False). It
        counts nothing, so that figure workers may call it: the parent counts with ``count``."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        old = self.previous / rel
        if old.is_file() and old.stat().st_size == len(data) and old.read_bytes() == data and self._link(rel):
            return False
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return True

    def count(self, written: bool) -> None:
        self.written += written
        self.reused += not written

    def write(self, rel: str, content, key: str | None = None) -> None:
        if key is not None:
            self.manifest[rel] = key
        self.count(self.put(rel, content))


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically where the kernel can (renameat2 RENAME_EXCHANGE), else by two renames."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None and renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:
        return
    aside = b.with_name(b.name + ".old-swap")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


def swap_in(staging: Path, target: Path) -> None:
    """Make ``staging`` the new ``target``; the old one is deleted."""
    if target.exists():
        _exchange(staging, target)
        shutil.rmtree(staging)
    else:
        os.rename(staging, target)


def _staging_dir(target: Path, where: Path) -> Path:
    """A fresh staging folder for ``target`` in ``where`` (outside docs/, so that mkdocs serve does not see it);
    leftovers of killed builds (dead pids) are removed."""
    for old in where.glob(f".gallery-tmp-{target.name}-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)
    path = where / f".gallery-tmp-{target.name}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    return path


def build_gallery(settings, docs_dir: Path, jobs=None, quiet=False, cache_dir=None, executor=None,
                  site=False) -> dict:
    """Write the whole gallery under ``docs_dir/gallery``, and with ``site`` the MkDocs site into ``site/`` beside
    ``docs_dir``, built from the new pages while the figure workers write the gallery's other files; returns
    counts for the report line. A site that fails to build leaves the previous one, after the new gallery is in."""
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise UserError(f"docs folder not found: {docs_dir}")
    started = time.perf_counter()
    report = run_sweep(settings, jobs=jobs, cache_dir=cache_dir, quiet=quiet, executor=executor)
    # the sweep's runs besides the cells: those the explanations quote, and the noise families
    extra = run_extras(settings, report.cells, docs_dir, cache_dir or default_cache_dir())
    target = docs_dir / pages.GALLERY
    staging_root = _staging_dir(target, docs_dir.resolve().parent)
    site_build = None

    def pages_written(pending: list) -> None:
        nonlocal site_build
        if site:
            site_build = SiteBuild(docs_dir, staging_root, pending)

    try:
        staging = Staging(staging_root, target)
        _write_everything(staging, settings, report.cells, report.keys, docs_dir, quiet, jobs, pages_written, extra)
        staging.write(MANIFEST, json.dumps(staging.manifest, indent=0, sort_keys=True) + "\n")
        failure = site_build.finish() if site_build else None
        swap_in(staging_root, target)
    except BaseException:
        if site_build:
            site_build.abandon()
        shutil.rmtree(staging_root, ignore_errors=True)
        raise
    if failure:
        raise UserError(failure)
    return {"cells": len(report.cells), "computed": report.computed, "written": staging.written,
            "reused": staging.reused, "seconds": time.perf_counter() - started}


def _write_everything(staging: Staging, settings, cells: dict, keys: dict, docs_dir: Path, quiet: bool,
                      jobs: int | None, pages_written=lambda pending: None, extra=None) -> None:
    """Every file of the gallery into ``staging``; ``pages_written(pending)`` is called once the pages are, with
    the figure files still to come (relative to the gallery)."""
    g = pages.GALLERY
    for name, data in embeds.asset_sources().items():
        staging.write(f"assets/{name}", data)
    for name, data in _katex_files().items():
        staging.write(f"assets/katex/{name}", data)
    for function in settings.functions:  # what every embed of the function points at (embeds.landscape)
        staging.write(f"embeds/{embeds.landscape_file(function)}", embeds.landscape_script(function))

    site = pages.Site(use_directory_urls(docs_dir))
    made = [(kind, names, subject) for kind in embeds.KINDS.values()
            for names, subject in embeds.subjects(kind, settings, cells)]
    assets = embeds.relative(f"{g}/assets", f"{g}/embeds")
    # the playground as seen from the embeds' folder (an index page's URL folder is its own folder)
    playground = site.page_url(f"{g}/embeds/index.md", pages.PLAYGROUND)
    figure_keys = FigureKeys(settings, keys, _produce, (assets, playground))

    def rel(path: str) -> str:  # Site paths start with the gallery folder; staging is rooted at it
        return path[len(g) + 1:]

    # Which files' inputs changed: only those are made (the others are carried over from the previous gallery).
    todo = []
    for index, (kind, names, subject) in enumerate(made):
        key = figure_keys.key(kind, subject)
        outputs = [(site.embed(kind.name, *names), "embed"), (site.thumbnail(kind.name, *names), "thumbnail")]
        todo += [(index, output, rel(path)) for path, output in outputs
                 if (output == "embed" or getattr(kind, output) is not None) and not staging.unchanged(rel(path), key)]

    progress = Progress(len(todo), "figures", quiet)
    with _Producer(made, settings, (assets, playground), staging, jobs) as producer:
        results_iter = producer.results(todo)
        # The pages render here while the workers draw the figures and write them.
        for path, text in pages.Renderer(settings, cells, site, docs_dir, extra).pages().items():
            staging.write(rel(path), text)
        pages_written([path for _, _, path in todo])
        for written in results_iter:
            staging.count(written)
            progress.advance()


_WORK = None  # what forked figure workers draw from: set before the fork, inherited (cells are not pickled)


def _produce(job) -> bool:
    """One output of one figure (its embed page, which carries its data download, or its thumbnail), put into the
    staging folder by the process that made it, so that no file goes back through a pipe; True if written, False if
    linked."""
    made, settings, (assets, playground), staging = _WORK
    index, output, path = job
    kind, _, subject = made[index]
    if output == "embed":
        content = embeds.page(kind, subject, settings, assets, playground)
    else:
        content = kind.thumbnail(subject)
    return staging.put(path, content)


class _Producer:
    """Makes figure outputs on ``jobs`` forked processes (inline for one job or a handful of files, as after an
    author's edit under mkdocs serve), in order."""

    INLINE = 16

    def __init__(self, made, settings, assets, staging, jobs):
        self.work, self.jobs, self.pool = (made, settings, assets, staging), jobs or os.cpu_count() or 1, None

    def __enter__(self):
        global _WORK
        _WORK = self.work
        return self

    def results(self, jobs: list):
        if self.jobs == 1 or len(jobs) <= self.INLINE:
            return map(_produce, jobs)
        self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"))
        return self.pool.map(_produce, jobs, chunksize=max(1, min(32, len(jobs) // (8 * self.jobs))))

    def __exit__(self, *exc):
        global _WORK
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        _WORK = None


class SiteBuild:
    """``mkdocs build --strict`` in a subprocess (site_build.py) into a staging folder, started as soon as the
    gallery's pages are written: MkDocs reads them through a stand-in docs folder whose gallery/ is ``gallery``,
    and the gallery's other files, ``pending`` of which are still being written, are hard-linked into the site
    once MkDocs is done. ``finish`` swaps the site in, or returns why it failed and leaves the previous site.
    MkDocs always logs its warnings (into a file read only when it fails): with --quiet, --strict would pass them."""

    def __init__(self, docs_dir: Path, gallery: Path, pending: list):
        docs_dir = docs_dir.resolve()
        self.project, self.gallery = docs_dir.parent, gallery
        self.target = self.project / "site"
        self.staging = _staging_dir(self.target, self.project)
        self.work = _staging_dir(self.project / "sitework", self.project)
        stand_in = self.work / "docs"
        stand_in.mkdir(parents=True)
        for entry in docs_dir.iterdir():
            if entry.name != pages.GALLERY:
                (stand_in / entry.name).symlink_to(entry)
        (stand_in / pages.GALLERY).symlink_to(gallery.resolve())
        plan = {"docs": str(docs_dir), "gallery": pages.GALLERY, "pending": [f"{pages.GALLERY}/{p}" for p in pending]}
        (self.work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        command = [sys.executable, "-m", "gallery_builder.site_build", str(self.work), "--strict", "--site-dir",
                   str(self.staging)]
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
        self.log = open(self.work / "log", "w+")  # not a pipe: nothing has to drain it while the figures are made
        self.process = subprocess.Popen(command, cwd=self.project, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def finish(self) -> str | None:
        try:
            if self.process.wait() != 0:
                self.log.seek(0)
                lines = self.log.read().splitlines()
                problems = [line for line in lines if "WARNING" in line or "ERROR" in line] or lines[-1:] or ["?"]
                shutil.rmtree(self.staging, ignore_errors=True)
                return f"mkdocs build --strict failed: {problems[0]}"
            for line in (self.work / "links").read_text(encoding="utf-8").splitlines():
                source, destination = line.split("\t")
                _hard_link(self.gallery / source[len(pages.GALLERY) + 1:], self.staging / destination)
            swap_in(self.staging, self.target)
            return None
        finally:
            self.log.close()
            shutil.rmtree(self.work, ignore_errors=True)

    def abandon(self) -> None:
        self.process.kill()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.staging, ignore_errors=True)


def build_site(project: Path) -> None:
    """The site alone, from the gallery in docs/ (see ``SiteBuild``)."""
    docs_dir = project / "docs"
    failure = SiteBuild(docs_dir, docs_dir / pages.GALLERY, []).finish()
    if failure:
        raise UserError(failure)


def command(name: str, settings, args) -> None:
    docs_dir = Path(args.docs)
    if name == "build":
        executor = make_executor(args.jobs or 1, args.executor) if args.executor else None
        counts = build_gallery(settings, docs_dir, jobs=args.jobs, quiet=args.quiet, executor=executor,
                               site=args.site)
        print(f"gallery: {counts['cells']} cells ({counts['computed']} computed), {counts['written']} files written, "
              f"{counts['reused']} unchanged, {counts['seconds']:.1f} s")
        if args.site:
            print(f"site: {docs_dir.resolve().parent / 'site'}")
    else:
        from .watch import watch

        watch(args, docs_dir)

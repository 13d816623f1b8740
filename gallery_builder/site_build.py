"""``python -m gallery_builder.site_build WORK ARGS...``: ``mkdocs build ARGS...`` of the project in the current
folder, reading its pages from WORK/docs instead of its docs folder. ``python -m gallery_builder.site_build serve
ARGS...``: ``mkdocs serve ARGS...`` as ``make serve`` runs it (see ``serve``).

WORK/docs stands in for the docs folder (WORK/plan.json: "docs"): its entries link to the docs folder's, except the
gallery ("gallery", its name), which links to a build's staging folder, so that the site can be built while the
figure workers still write the gallery's files. Those files (embeds, data, thumbnails, assets) are not copied: their
source and site paths, one pair a line, go to WORK/links, and the caller hard-links them once they are all written.
"pending" lists the ones not written yet (paths in the docs folder), so that links to them validate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mkdocs.config
from mkdocs.__main__ import cli
from mkdocs.commands import build
from mkdocs.livereload import LiveReloadServer
from mkdocs.structure.files import File

EXPLANATIONS = "explanations"  # pages.EXPLANATIONS: read by the gallery build, not by MkDocs (no import of pages)


def main(work: Path, args: list) -> None:
    plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    docs, original, folder = str(work / "docs"), Path(plan["docs"]), plan["gallery"] + "/"
    load_config, get_files, copy_file = mkdocs.config.load_config, build.get_files, File.copy_file

    def loading(**options):
        config = load_config(**options, docs_dir=docs)
        # pymdownx.snippets reads its base paths from the current folder: the docs folder's becomes the stand-in.
        snippets = config.mdx_configs.get("pymdownx.snippets", {})
        if "base_path" in snippets:
            snippets["base_path"] = [docs if Path(p).resolve() == original else p for p in snippets["base_path"]]
        return config

    def gathering(config):
        files = get_files(config)
        for path in plan["pending"]:
            files.append(File(path, config.docs_dir, config.site_dir, config.use_directory_urls))
        return files

    listed = []

    def listing(self: File, dirty: bool = False) -> None:
        if self.src_uri.startswith(folder):
            listed.append(f"{self.src_uri}\t{self.dest_uri}\n")
        else:
            copy_file(self, dirty)

    mkdocs.config.load_config, build.get_files, File.copy_file = loading, gathering, listing
    try:
        cli.main(["build", *args], prog_name="mkdocs")  # exits, with MkDocs' own messages when it fails
    finally:
        (work / "links").write_text("".join(listed), encoding="utf-8")


def serve(args: list) -> None:
    """``mkdocs serve`` without watching the explanations: MkDocs excludes them, and ``gallery-builder watch``
    renders them into the gallery's pages, whose change then makes MkDocs' one rebuild. Watching them too made
    MkDocs build twice per edit. The docs folder is watched at its top level, and each folder in it (when serving
    starts) but the explanations, recursively."""
    watch = LiveReloadServer.watch

    def watching(self, path, func=None, *, recursive=True):
        folder = Path(path)
        if not recursive or not (folder / EXPLANATIONS).is_dir():
            return watch(self, path, func, recursive=recursive)
        watch(self, path, func, recursive=False)
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and entry.name != EXPLANATIONS:
                watch(self, str(entry), func)
        return None

    LiveReloadServer.watch = watching
    cli.main(["serve", *args], prog_name="mkdocs")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2:])
    else:
        main(Path(sys.argv[1]), sys.argv[2:])

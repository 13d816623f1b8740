"""``python -m gallery_builder.site_build FOLDER ARGS...``: ``mkdocs build ARGS...``, with the media files under
docs/FOLDER/ hard-linked into the site instead of copied (a copy where the file systems differ).

The generated gallery is never rewritten in place (a build writes new files and swaps the folder in), so a linked
file keeps the bytes it had when the site was built, and the site holds no second copy of its embeds and data.
"""

from __future__ import annotations

import os
import sys

from mkdocs.__main__ import cli
from mkdocs.structure.files import File

_copy_file = File.copy_file


def _linking(folder: str):
    def copy_file(self: File, dirty: bool = False) -> None:
        if not self.src_uri.startswith(folder) or self.abs_src_path is None or (dirty and not self.is_modified()):
            return _copy_file(self, dirty)
        os.makedirs(os.path.dirname(self.abs_dest_path), exist_ok=True)
        if os.path.lexists(self.abs_dest_path):  # a dirty build: never write through an old link
            os.remove(self.abs_dest_path)
        try:
            os.link(self.abs_src_path, self.abs_dest_path)
        except OSError:
            _copy_file(self, dirty)

    return copy_file


if __name__ == "__main__":
    File.copy_file = _linking(sys.argv[1].rstrip("/") + "/")
    cli.main(["build", *sys.argv[2:]], prog_name="mkdocs")

"""Vendor the browser libraries the site serves: the partial plotly.js bundles the embeds load (at the plotly.js
version the installed plotly ships) and KaTeX, which typesets the pages' math.

Each package comes from the npm registry through `npm pack` and is checked against the registry's integrity hash;
the files the site needs are written to gallery_builder/assets/vendor/ with each package's licence, and
vendor/manifest.json records the packages, their integrity and the sha256 of every file written. The same versions
give the same bytes. Run it again after upgrading plotly or changing KATEX.

Run: .venv/bin/python scripts/vendor_assets.py   (needs npm and access to the npm registry)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from plotly.offline import get_plotlyjs_version

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "gallery_builder" / "assets" / "vendor"
PLOTLY_BUNDLES = ("cartesian", "gl3d")  # 2-D embeds; 3-D views
KATEX = "0.19.1"


def npm(*args: str, cwd: Path) -> str:
    return subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def package(spec: str, scratch: Path) -> tuple:
    """The npm package ``spec`` as an open tarball, checked against the registry's integrity, and that integrity."""
    integrity = json.loads(npm("view", spec, "dist.integrity", "--json", cwd=scratch))
    tarball = scratch / npm("pack", spec, "--silent", cwd=scratch).strip().splitlines()[-1]
    algorithm, expected = integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if digest != expected:
        sys.exit(f"{tarball.name}: {algorithm} {digest} does not match the registry's {expected}")
    return tarfile.open(tarball), integrity


def main() -> None:
    plotly_version = get_plotlyjs_version()
    files, packages = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for bundle in PLOTLY_BUNDLES:
            spec = f"plotly.js-{bundle}-dist-min@{plotly_version}"
            tar, packages[spec] = package(spec, Path(scratch))
            files[f"plotly-{bundle}-{plotly_version}.min.js"] = tar.extractfile(f"package/plotly-{bundle}.min.js").read()
            files["plotly.js-LICENSE.txt"] = tar.extractfile("package/LICENSE").read()
        spec = f"katex@{KATEX}"
        tar, packages[spec] = package(spec, Path(scratch))
        files["katex/katex.min.js"] = tar.extractfile("package/dist/katex.min.js").read()
        # Only the woff2 fonts are shipped (every browser the site supports reads them): the CSS names only those.
        css = tar.extractfile("package/dist/katex.min.css").read().decode()
        files["katex/katex.min.css"] = re.sub(r',url\(fonts/[\w-]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "",
                                              css).encode()
        for member in tar.getmembers():
            if re.fullmatch(r"package/dist/fonts/[\w-]+\.woff2", member.name):
                files[f"katex/fonts/{Path(member.name).name}"] = tar.extractfile(member).read()
        files["katex/LICENSE.txt"] = tar.extractfile("package/LICENSE").read()
    shutil.rmtree(VENDOR, ignore_errors=True)
    for name, data in files.items():
        (VENDOR / name).parent.mkdir(parents=True, exist_ok=True)
        (VENDOR / name).write_bytes(data)
    manifest = {"plotly.js": plotly_version, "katex": KATEX, "packages": packages,
                "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for name, data in files.items():
        if name.endswith(".js"):
            print(f"{name}: {len(data) / 1e6:.2f} MB")
    print(f"wrote {len(files)} files to {VENDOR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Vendor the browser libraries the site serves: the plotly.js bundles the embeds load (at the plotly.js version
the installed plotly ships) and KaTeX, which typesets the pages' math.

Each package comes from the npm registry through `npm pack` and is checked against the registry's integrity hash;
the files the site needs are written to gallery_builder/assets/vendor/ with each package's licence, and
vendor/manifest.json records the packages, their integrity and the sha256 of every file written. The 3-D views load
plotly.js's own gl3d bundle. The 2-D figures draw only scatter, heatmap and contour traces, so their bundle is built
here from plotly.js's sources (its lib/core plus those two trace modules) with esbuild, the way plotly.js builds
its partial bundles: 1.18 MB instead of the cartesian bundle's 1.50 MB, which also has bar, box, histogram, pie,
violin, ... The manifest records esbuild's version and every package the build resolved. Run it again after
upgrading plotly or changing KATEX or ESBUILD.

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
PLOTLY_BUNDLES = ("gl3d",)  # 3-D views, as plotly.js publishes it
PLOTLY_2D = ("heatmap", "contour")  # trace modules of the 2-D bundle, besides the scatter that lib/core has
ESBUILD = "0.28.2"
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


def build_2d(plotly_version: str, scratch: Path) -> tuple:
    """The 2-D bundle built from plotly.js's sources, and what the build resolved (package -> version)."""
    work = scratch / "plotly-2d"
    work.mkdir()
    npm("install", "--no-save", "--no-audit", "--no-fund", f"plotly.js@{plotly_version}", f"esbuild@{ESBUILD}",
        cwd=work)
    modules = ", ".join(f"require('plotly.js/lib/{name}')" for name in PLOTLY_2D)
    (work / "entry.js").write_text(f"var Plotly = require('plotly.js/lib/core');\nPlotly.register([{modules}]);\n"
                                   "module.exports = Plotly;\n")
    # plotly.js's own esbuild settings (esbuild-config.js), minified like its dist bundles.
    subprocess.run([str(work / "node_modules" / ".bin" / "esbuild"), "entry.js", "--bundle", "--format=iife",
                    "--global-name=Plotly", "--minify", "--target=es2016", "--define:global=window",
                    "--define:define.amd=false", "--define:process.env.NODE_DEBUG=false", "--log-level=warning",
                    "--outfile=plotly-2d.min.js"], cwd=work, check=True)
    tree = json.loads(npm("ls", "--all", "--json", cwd=work))
    resolved = {}
    stack = list(tree.get("dependencies", {}).items())
    while stack:
        name, node = stack.pop()
        resolved[name] = node.get("version", "?")
        stack.extend(node.get("dependencies", {}).items())
    return (work / "plotly-2d.min.js").read_bytes(), dict(sorted(resolved.items()))


def main() -> None:
    plotly_version = get_plotlyjs_version()
    files, packages = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for bundle in PLOTLY_BUNDLES:
            spec = f"plotly.js-{bundle}-dist-min@{plotly_version}"
            tar, packages[spec] = package(spec, Path(scratch))
            files[f"plotly-{bundle}-{plotly_version}.min.js"] = tar.extractfile(f"package/plotly-{bundle}.min.js").read()
            files["plotly.js-LICENSE.txt"] = tar.extractfile("package/LICENSE").read()
        files[f"plotly-2d-{plotly_version}.min.js"], built = build_2d(plotly_version, Path(scratch))
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
                "built": {f"plotly-2d-{plotly_version}.min.js": {"esbuild": ESBUILD, "traces": ["scatter", *PLOTLY_2D],
                                                                 "resolved": built}},
                "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for name, data in files.items():
        if name.endswith(".js"):
            print(f"{name}: {len(data) / 1e6:.2f} MB")
    print(f"wrote {len(files)} files to {VENDOR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

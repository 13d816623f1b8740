"""The cache on disk: one file per cell in a binary format read back as views of one buffer, the small JSON files of
the sweep's other runs (extras.py), and where the cache lives. Every file is written whole or not at all."""

from __future__ import annotations

import json
import math
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .model import ARRAYS, AxisSweep, Cell, Controls, LrSearch, NoisySweep, Runs, ScheduledSweep


def default_cache_dir() -> Path:
    return Path(os.environ.get("GALLERY_CACHE", ".cache/gallery-builder"))


def cell_path(cache_dir: Path, optimizer: str, function: str, key: str) -> Path:
    return Path(cache_dir) / f"{optimizer}--{function}--{key}.cell"


@contextmanager
def replacing(path: Path):
    """A binary file handle whose contents become ``path`` when the block ends: atomic, a reader never sees half a
    file (a process's partial file is its own: several may write the same path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    with open(partial, "wb") as handle:
        yield handle
    os.replace(partial, path)


def save_json(value, path: Path) -> None:
    with replacing(path) as handle:
        handle.write(json.dumps(value).encode())


def load_json(path: Path):
    return json.loads(path.read_text())


def _runs_arrays(runs: Runs, prefix: str) -> dict:
    arrays = {prefix + name: getattr(runs, name) for name in ARRAYS}
    arrays.update({f"{prefix}state__{name}": values for name, values in runs.state.items()})
    return arrays


def _runs_from(data: dict, prefix: str) -> Runs:
    state = {key[len(prefix) + 7:]: data[key] for key in data if key.startswith(prefix + "state__")}
    return Runs(**{name: data[prefix + name] for name in ARRAYS}, state=state)


# A cached cell is one file: MAGIC, the length of a JSON header (8 bytes, little-endian), the header (the cell's
# metadata and, per array, its name, dtype, shape and offset), then every array's bytes, each aligned to ALIGN. Read
# back as views of one buffer, a cell costs one read instead of a zip member and a parsed header per array (np.load
# of an .npz spent 4 of the 5.6 s of a fully cached sweep in that).
MAGIC, ALIGN = b"GBCELL1\n", 64


def _aligned(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


def save_cell(cell: Cell, path: Path) -> None:
    meta = {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": cell.start, "best": cell.best, "basin_lr": cell.basin_lr,
            "second": cell.second.name if cell.second else None,
            "schedules": {spec: sweep.best for spec, sweep in (cell.schedules or {}).items()},
            "noise": None if cell.noisy is None else {"sigma": cell.noisy.sigma, "best": cell.noisy.best},
            "controls": {"inert_schedules": list(cell.controls.inert_schedules),
                         "same_as_neighbour": cell.controls.same_as_neighbour}}
    arrays = {"lrs": cell.lrs, "basin_xs": cell.basin_axes[0], "basin_ys": cell.basin_axes[1],
              **_runs_arrays(cell.runs, "lr_"), **_runs_arrays(cell.basin, "basin_")}
    for k, sweep in enumerate((cell.schedules or {}).values()):
        arrays.update({**_runs_arrays(sweep.runs, f"sched{k}_"), f"sched{k}_lrs": sweep.lrs})
    if cell.noisy is not None:
        arrays.update({f"noise_{name}": getattr(cell.noisy, name) for name in NoisySweep.ARRAYS})
    if cell.second:
        arrays.update({f"axis_{f}": getattr(cell.second, f) for f in AxisSweep.FIELDS})
    arrays.update({f"search_{f}": getattr(cell.search, f) for f in LrSearch.FIELDS})
    arrays.update({**_runs_arrays(cell.controls.shifted, "shifted_"), **_runs_arrays(cell.controls.nudged, "nudged_")})
    arrays = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    table, offset = [], 0
    for name, value in arrays.items():
        table.append((name, value.dtype.str, value.shape, offset))
        offset += _aligned(value.nbytes)
    header = json.dumps({"meta": meta, "arrays": table}).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    with replacing(path) as handle:
        handle.write(MAGIC + len(header).to_bytes(8, "little") + header)
        for (_, _, _, at), value in zip(table, arrays.values()):
            handle.seek(start + at)
            handle.write(value.data)
        handle.truncate(start + offset)


def load_cell(path: Path) -> Cell:
    with open(path, "rb") as handle:
        buffer = bytearray(os.fstat(handle.fileno()).st_size)  # writable, so the arrays are too (as np.load's)
        handle.readinto(buffer)
    if buffer[:len(MAGIC)] != MAGIC:
        raise ValueError(f"{path}: not a cached cell")
    size = int.from_bytes(buffer[len(MAGIC):len(MAGIC) + 8], "little")
    header = json.loads(buffer[len(MAGIC) + 8:len(MAGIC) + 8 + size])
    start = _aligned(len(MAGIC) + 8 + size)
    data = {name: np.frombuffer(buffer, dtype, math.prod(shape), start + at).reshape(shape)
            for name, dtype, shape, at in header["arrays"]}
    meta = header["meta"]
    second = None
    if meta["second"]:
        second = AxisSweep(meta["second"], *(data[f"axis_{f}"] for f in AxisSweep.FIELDS))
    scheduled = {spec: ScheduledSweep(spec, data[f"sched{k}_lrs"], _runs_from(data, f"sched{k}_"), best)
                 for k, (spec, best) in enumerate(meta["schedules"].items())}
    noisy = None
    if meta["noise"] is not None:
        noisy = NoisySweep(meta["noise"]["sigma"], best=meta["noise"]["best"],
                           **{name: data[f"noise_{name}"] for name in NoisySweep.ARRAYS})
    controls = Controls(_runs_from(data, "shifted_"), _runs_from(data, "nudged_"),
                        tuple(meta["controls"]["inert_schedules"]), meta["controls"]["same_as_neighbour"])
    return Cell(meta["optimizer"], meta["function"], meta["hyperparameters"], tuple(meta["start"]),
                data["lrs"], _runs_from(data, "lr_"), meta["best"], meta["basin_lr"],
                (data["basin_xs"], data["basin_ys"]), _runs_from(data, "basin_"), second, scheduled, noisy,
                LrSearch(*(data[f"search_{f}"] for f in LrSearch.FIELDS)), controls)

"""Sweep and site settings: built-in defaults, optionally overridden by a TOML file.

The file is ``gallery.toml`` at the project root when present, or the one given with ``--config``. Every key is
optional; the format is documented in ``docs/add-your-own.md`` (section "Settings").
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import engine, functions, optimizers, schedules
from .errors import UserError, unknown_name

DEFAULT_PATH = Path("gallery.toml")
DEFAULT_STEPS = 300
# The schedules each cell also runs, each at its own best peak learning rate (constant is always run).
DEFAULT_SCHEDULES = ("cosine", "warmup_cosine:warmup=30")


@dataclass(frozen=True)
class Settings:
    optimizers: tuple = field(default_factory=lambda: tuple(optimizers.CATALOGUE))
    functions: tuple = field(default_factory=lambda: tuple(functions.CATALOGUE))
    steps: int | None = None  # every function's horizon; None: each function's own (functions.py), else 300
    lr_per_decade: int = 4
    lr_decades_below: float = 2.0  # the window a cell shows (figures, lr × second-hyperparameter map) about its lr
    lr_decades_above: float = 2.0
    lr_limit_below: float = 5.0  # the search runs every rate this far below and above the optimizer's default
    lr_limit_above: float = 5.0
    basin_grid: int = 41
    tolerance: float = engine.TOLERANCE
    hyperparameters: dict = field(default_factory=dict)  # optimizer name -> {hyperparameter: value}
    starts: dict = field(default_factory=dict)  # function name -> (x, y)
    horizons: dict = field(default_factory=dict)  # function name -> steps
    description: str = ""
    schedules: tuple = DEFAULT_SCHEDULES  # canonical spec strings
    noise_seeds: int = 16  # seeds per learning rate of the noisy sweep; 0 turns it off
    noise_fraction: float = 0.01  # a function's default σ: this fraction of its typical gradient norm
    noise_sigma: dict = field(default_factory=dict)  # function name -> σ, overriding the default

    def sigma_for(self, name: str) -> float:
        """The noise σ of function ``name``: its override, or noise_fraction × its typical gradient norm."""
        if name in self.noise_sigma:
            return self.noise_sigma[name]
        return self.noise_fraction * functions.get(name).typical_gradient

    def hyper(self, name: str) -> dict:
        return optimizers.get(name).hyperparameters(self.hyperparameters.get(name))

    def cell_hyper(self, name: str, fn_name: str) -> dict:
        """Optimizer ``name``'s hyperparameters in its cell on function ``fn_name``: the settings' and those the
        function fills in (f* for Polyak's step)."""
        return {**self.hyper(name), **optimizers.get(name).for_function(functions.get(fn_name))}

    def start(self, name: str) -> tuple:
        return self.starts.get(name, functions.get(name).start)

    def default_steps(self) -> int:
        """The horizon of functions that have none of their own."""
        return self.steps or DEFAULT_STEPS

    def steps_for(self, name: str) -> int:
        """The horizon of every run on function ``name``: the same for choosing a learning rate and showing it."""
        return self.horizons.get(name) or self.steps or functions.get(name).steps or DEFAULT_STEPS


class _Reader:
    """Reads one TOML table, naming the file and key in every error."""

    def __init__(self, path, table: dict, prefix: str):
        self.path, self.table, self.prefix = path, table, prefix

    def fail(self, key, expected, value):
        return UserError(f"{self.path}: {self.prefix}{_show(key)}: expected {expected}, got {value!r}")

    def known(self, allowed):
        for key in self.table:
            if key not in allowed:
                raise UserError(f"{self.path}: unknown key {self.prefix}{_show(key)}; "
                                f"allowed: {', '.join(sorted(allowed))}")

    def integer(self, key, low, high, default):
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"a whole number from {low} to {high}", value)
        return value

    def number(self, key, low, high, default):
        value = self.table.get(key, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not low <= value <= high:
            raise self.fail(key, f"a number from {low:g} to {high:g}", value)
        return float(value)

    def text(self, key, default):
        value = self.table.get(key, default)
        if not isinstance(value, str) or len(value) > 2000:
            raise self.fail(key, "a string of at most 2000 characters", value)
        return value

    def names(self, key, catalogue, kind):
        value = self.table.get(key)
        if value is None:
            return tuple(catalogue)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"a non-empty list of {kind} names", value)
        for name in value:
            if name not in catalogue:
                raise UserError(f"{self.path}: {self.prefix}{key}: {_unknown(kind, name, catalogue)}")
        return tuple(dict.fromkeys(value))

    def table_of(self, key):
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return _Reader(self.path, value, f"{self.prefix}{key}.")


def _show(key: str) -> str:
    """A key as it can be shown on one line (a quoted TOML key may hold a newline)."""
    return key.encode("unicode_escape").decode("ascii")


def _unknown(kind, name, catalogue):
    return str(unknown_name(kind, name, catalogue))


def load(path: str | Path | None = None) -> Settings:
    """Settings from ``path`` (or ``gallery.toml`` if it exists, else the defaults)."""
    if path is None:
        if not DEFAULT_PATH.exists():
            return Settings()
        path = DEFAULT_PATH
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read config: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: not valid TOML: {error}") from None
    return parse(data, path)


def parse(data: dict, path="config") -> Settings:
    root = _Reader(path, data, "")
    root.known({"sweep", "optimizers", "functions", "site", "noise"})
    sweep = root.table_of("sweep")
    sweep.known({"optimizers", "functions", "steps", "basin_grid", "tolerance", "learning_rates", "schedules"})
    noise = root.table_of("noise")
    noise.known({"seeds", "fraction", "sigma"})
    sigma = _noise_sigma(noise.table_of("sigma"), path)
    rates = sweep.table_of("learning_rates")
    rates.known({"per_decade", "decades_below", "decades_above", "limit_below", "limit_above"})
    site = root.table_of("site")
    site.known({"description"})
    hyper = _hyperparameters(root.table_of("optimizers"), path)
    starts, horizons = _function_settings(root.table_of("functions"), path)
    plans = _schedules(sweep, path)

    below = rates.number("decades_below", 0, 8, Settings.lr_decades_below)
    above = rates.number("decades_above", 0, 8, Settings.lr_decades_above)
    settings = Settings(
        optimizers=sweep.names("optimizers", optimizers.CATALOGUE, "optimizer"),
        functions=sweep.names("functions", functions.CATALOGUE, "function"),
        steps=sweep.integer("steps", 1, 10_000, DEFAULT_STEPS) if "steps" in sweep.table else None,
        lr_per_decade=rates.integer("per_decade", 1, 20, Settings.lr_per_decade),
        lr_decades_below=below,
        lr_decades_above=above,
        lr_limit_below=rates.number("limit_below", below, 10, max(below, Settings.lr_limit_below)),
        lr_limit_above=rates.number("limit_above", above, 10, max(above, Settings.lr_limit_above)),
        basin_grid=sweep.integer("basin_grid", 2, 101, Settings.basin_grid),
        tolerance=sweep.number("tolerance", 1e-15, 1.0, Settings.tolerance),
        hyperparameters=hyper,
        starts=starts,
        horizons=horizons,
        description=site.text("description", Settings.description),
        schedules=plans,
        noise_seeds=noise.integer("seeds", 0, 256, Settings.noise_seeds),
        noise_fraction=noise.number("fraction", 0, 100, Settings.noise_fraction),
        noise_sigma=sigma,
    )
    return _fitting_schedules(settings, "schedules" in sweep.table, path)


def _noise_sigma(table: _Reader, path) -> dict:
    """[noise.sigma]: function name -> σ."""
    sigma = {}
    for name in table.table:
        if name not in functions.CATALOGUE:
            raise UserError(f"{path}: noise.sigma.{name}: {_unknown('function', name, functions.CATALOGUE)}")
        sigma[name] = table.number(name, 0, 1e12, None)
    return sigma


def _hyperparameters(tables: _Reader, path) -> dict:
    """[optimizers.NAME]: optimizer name -> its checked hyperparameter overrides."""
    hyper = {}
    for name in tables.table:
        if name not in optimizers.CATALOGUE:
            raise UserError(f"{path}: optimizers.{name}: {_unknown('optimizer', name, optimizers.CATALOGUE)}")
        overrides = tables.table_of(name).table
        if optimizers.get(name).needs_minimum and "f_min" in overrides:  # the sweep takes f* from each function
            raise UserError(f"{path}: optimizers.{name}.f_min: set from each function's minimum, not in the settings")
        try:
            optimizers.get(name).hyperparameters(overrides)
        except UserError as error:
            raise UserError(f"{path}: optimizers.{name}: {error}") from None
        hyper[name] = dict(overrides)
    return hyper


def _function_settings(tables: _Reader, path) -> tuple:
    """[functions.NAME]: function name -> start, and function name -> horizon."""
    starts, horizons = {}, {}
    for name in tables.table:
        if name not in functions.CATALOGUE:
            raise UserError(f"{path}: functions.{name}: {_unknown('function', name, functions.CATALOGUE)}")
        table = tables.table_of(name)
        table.known({"start", "steps"})
        if "steps" in table.table:
            horizons[name] = table.integer("steps", 1, 10_000, None)
        if "start" in table.table:
            try:
                starts[name] = engine.check_start(functions.get(name), table.table["start"])
            except UserError as error:
                raise UserError(f"{path}: functions.{name}.start: {error}") from None
    return starts, horizons


def _schedules(sweep: _Reader, path) -> tuple:
    """sweep.schedules as canonical specs, without the constant one (always run) and repeats."""
    plans = sweep.table.get("schedules", list(DEFAULT_SCHEDULES))
    if not isinstance(plans, list) or not all(isinstance(p, str) for p in plans):
        raise sweep.fail("schedules", "a list of schedule specs such as \"cosine\"", plans)
    try:
        plans = [schedules.parse(p) for p in plans]
    except UserError as error:
        raise UserError(f"{path}: sweep.schedules: {error}") from None
    return tuple(dict.fromkeys(p.spec for p in plans if not p.constant))


def _fitting_schedules(settings: Settings, asked: bool, path) -> Settings:
    """A schedule asked for must fit in every function's horizon; of the defaults, those that fit are kept (a 30-step
    warmup needs more than 30 steps)."""
    def fits(spec):
        for name in settings.functions:
            try:
                schedules.parse(spec).multipliers(settings.steps_for(name))
            except UserError as error:
                return f"{error} (function {name})"
        return None

    if not asked:
        return dataclasses.replace(settings, schedules=tuple(p for p in settings.schedules if fits(p) is None))
    for spec in settings.schedules:
        problem = fits(spec)
        if problem:
            raise UserError(f"{path}: sweep.schedules: {problem}")
    return settings

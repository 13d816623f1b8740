"""The data the sweep makes and every later stage reads: runs and their statuses, and the cells of the sweep with
their learning-rate searches, schedules, noisy sweeps and control runs. Plain containers of numpy arrays: how they are
computed is the engine's and the sweep's, how they are stored the cache's."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

# Run outcomes, in the order of their integer codes.
STATUSES = ("converged", "stalled", "moving", "diverged", "escaped")
CONVERGED, STALLED, MOVING, DIVERGED, ESCAPED = range(len(STATUSES))


@dataclass
class Runs:
    """A batch of runs: full paths and per-run summaries."""

    points: np.ndarray  # (B, S+1, 2); NaN after a run stopped
    values: np.ndarray  # (B, S+1)
    grad_norms: np.ndarray  # (B, S+1), or (B, 0) for a member run without them
    status: np.ndarray  # (B,) codes into STATUSES
    stop_step: np.ndarray  # (B,) step at which a run diverged or escaped, -1 otherwise
    last: np.ndarray  # (B,) index of the last finite row
    final_point: np.ndarray  # (B, 2)
    final_value: np.ndarray  # (B,)
    gap: np.ndarray  # (B,) final f - f* (NaN without a known minimum)
    distance: np.ndarray  # (B,) to the nearest global minimizer (NaN without one)
    steps_to_tolerance: np.ndarray  # (B,) first step with f - f* <= tolerance, -1 if never
    minimizer: np.ndarray  # (B,) index of the minimizer the run ended in, -1 for none
    # What the optimizer carried at each step, read from its own state: field -> (B, S+1, k), for members run
    # with record_state (the gradient point too, for optimizers that show another point than where they evaluate).
    state: dict = field(default_factory=dict)


ARRAYS = tuple(f.name for f in fields(Runs) if f.name != "state")  # the per-run arrays, for slicing and storing


def is_failure(status, fn):
    """Which runs failed: the diverged ones, and on a function with a minimum also those that left the domain
    (on a saddle, leaving is the goal)."""
    status = np.asarray(status)
    return (status == DIVERGED) | ((status == ESCAPED) & (fn.minimum is not None))


def describe(status: int, stop_step: int, steps: int) -> str:
    """The status of one run in words."""
    return {
        CONVERGED: "converged",
        STALLED: "stalled at a stationary point that is not a global minimum",
        MOVING: f"still moving after {steps} steps",
        DIVERGED: f"diverged at step {stop_step}",
        ESCAPED: f"left the domain at step {stop_step}",
    }[int(status)]


QUANTILES = (0.25, 0.5, 0.75)  # the gap quantiles over seeds a noisy sweep keeps
NOISE_SCALES = (0.5, 1.0, 2.0)  # the noisy runs at the chosen lr are repeated at these multiples of σ


@dataclass
class AxisSweep:
    """Outcomes over learning rate × a second hyperparameter (momentum, β1, ...): arrays of shape (values, lrs)."""

    name: str
    values: np.ndarray
    status: np.ndarray
    gap: np.ndarray
    steps_to_tolerance: np.ndarray
    stop_step: np.ndarray
    final_value: np.ndarray

    FIELDS = ("values", "status", "gap", "steps_to_tolerance", "stop_step", "final_value")


@dataclass
class ScheduledSweep:
    """One schedule's learning-rate search in a cell: one run per peak learning rate, full paths."""

    spec: str
    lrs: np.ndarray
    runs: Runs
    best: int

    @property
    def chosen(self) -> int:
        return self.best if self.best >= 0 else len(self.lrs) // 2


@dataclass
class NoisySweep:
    """The learning-rate search under gradient noise: ``seeds`` runs per learning rate, summarized per lr.

    Per learning rate, the *median seed* is the seed ranked ⌊(K−1)/2⌋ by criteria.seed_rank (the lower median):
    the best learning rate is the one whose median seed's run the choice criterion prefers.
    """

    sigma: float
    lrs: np.ndarray  # (L,)
    best: int
    median: np.ndarray  # (L,) the median seed at each lr
    status: np.ndarray  # (L, K) and below: each seed's summary
    gap: np.ndarray
    steps_to_tolerance: np.ndarray
    stop_step: np.ndarray
    final_value: np.ndarray
    quantiles: np.ndarray  # (L, 3, S+1): f − f* (f without a minimum) at QUANTILES over seeds; ±inf after a stop
    path_steps: np.ndarray  # (P,) the steps kept in paths
    paths: np.ndarray  # (L, K, P, 2) every seed's position at path_steps (NaN after a stop)
    best_points: np.ndarray  # (K, S+1, 2) every seed's full path at the chosen lr
    best_values: np.ndarray  # (K, S+1)
    # at the chosen lr, each seed's run again at NOISE_SCALES × σ: (3, K), for whether the noisy gap scales with σ
    scaled_status: np.ndarray
    scaled_gap: np.ndarray
    scaled_final_value: np.ndarray

    ARRAYS = ("lrs", "median", "status", "gap", "steps_to_tolerance", "stop_step", "final_value", "quantiles",
              "path_steps", "paths", "best_points", "best_values", "scaled_status", "scaled_gap", "scaled_final_value")

    @property
    def seeds(self) -> int:
        return self.status.shape[1]

    @property
    def chosen(self) -> int:
        return self.best if self.best >= 0 else len(self.lrs) // 2


@dataclass
class LrSearch:
    """The constant-lr search over the whole allowed range (``sweep.lr_grid``): every rate's outcome, without paths (the
    cell keeps the paths of its shown window only)."""

    lrs: np.ndarray
    status: np.ndarray
    gap: np.ndarray
    steps_to_tolerance: np.ndarray
    stop_step: np.ndarray
    final_value: np.ndarray

    FIELDS = ("lrs", "status", "gap", "steps_to_tolerance", "stop_step", "final_value")


@dataclass
class Controls:
    """Control runs of a cell at its chosen learning rate, for results that rest on something besides the update
    rule: ``shifted`` is the run on ``functions.shifted`` (the function and start moved off the origin), ``nudged``
    the run from the start moved by sweep.NUDGE of the domain; ``inert_schedules`` the schedules whose runs equal the
    constant-lr runs bit for bit at every searched rate; ``same_as_neighbour`` whether the chosen run equals the run
    at a neighbouring rate bit for bit."""

    shifted: Runs
    nudged: Runs
    inert_schedules: tuple
    same_as_neighbour: bool


@dataclass
class Cell:
    """One (optimizer, function) cell of the sweep."""

    optimizer: str
    function: str
    hyperparameters: dict
    start: tuple
    lrs: np.ndarray  # ascending: the grid searched
    runs: Runs  # one run per learning rate, full paths
    best: int  # index into lrs, -1 when every run diverged
    basin_lr: float
    basin_axes: tuple  # (xs, ys) of the start grid
    basin: Runs  # one run per start (row-major over ys, xs); summaries only, no paths
    second: AxisSweep | None = None  # for optimizers with a momentum-like hyperparameter
    schedules: dict | None = None  # spec -> ScheduledSweep, for each schedule of the settings
    noisy: NoisySweep | None = None  # with noise_seeds > 0
    search: LrSearch | None = None  # every rate searched; lrs and runs above are its shown window
    controls: Controls | None = None

    @property
    def chosen(self) -> int:
        """The learning rate shown first: the best one, or the default when none qualifies."""
        return self.best if self.best >= 0 else int(np.argmin(np.abs(np.log(self.lrs / self.hyperparameters["lr"]))))

"""Rprop, ASGD, Adafactor and L-BFGS against torch.optim in float64, step for step, state included.

torch is a test-only reference, skipped where it is missing unless REQUIRE_TORCH=1 (see test_torch_reference).
"""

import inspect

import numpy as np
import pytest

from gallery_builder import functions, optimizers
from gallery_builder.engine import run_batch
from gallery_builder.optimizers.second_order import HISTORY_SIZE
from test_torch_reference import STEPS, torch, torch_path

# our name -> a function (hyperparameters, parameter) -> the torch optimizer
TORCH = {
    "rprop": lambda h, p: torch.optim.Rprop([p], lr=h["lr"], etas=(h["etaminus"], h["etaplus"]),
                                            step_sizes=(h["step_size_min"], h["step_size_max"]), foreach=False),
    "asgd": lambda h, p: torch.optim.ASGD([p], lr=h["lr"], lambd=h["lambd"], alpha=h["alpha"], t0=h["t0"],
                                          weight_decay=h["weight_decay"], foreach=False),
    "adafactor": lambda h, p: torch.optim.Adafactor([p], lr=h["lr"], beta2_decay=h["beta2_decay"],
                                                    eps=(h["eps1"], h["eps2"]), d=h["d"],
                                                    weight_decay=h["weight_decay"], foreach=False),
    "lbfgs": lambda h, p: torch.optim.LBFGS([p], lr=h["lr"], max_iter=1, tolerance_grad=h["tolerance_grad"],
                                            tolerance_change=h["tolerance_change"], history_size=HISTORY_SIZE,
                                            line_search_fn=None),
}

# (optimizer, function) -> a learning rate, and a second start, where the run moves visibly in 60 steps and is not
# unstable: where it is, last-bit differences (torch's kernels fuse multiply-adds, numpy does not) grow with the
# instability, e.g. L-BFGS at lr = 1 on Rosenbrock, flung to (29, 14) and back, ends 5e-8 apart.
CASES = {
    ("rprop", "rosenbrock"): 1e-2, ("rprop", "beale"): 1e-2, ("rprop", "himmelblau"): 1e-2,
    ("rprop", "saddle"): 1e-2,
    ("asgd", "rosenbrock"): 1e-3, ("asgd", "beale"): 1e-2, ("asgd", "himmelblau"): 1e-2, ("asgd", "saddle"): 1e-2,
    ("adafactor", "rosenbrock"): 1e-1, ("adafactor", "beale"): 1e-1, ("adafactor", "himmelblau"): 1e-1,
    ("lbfgs", "rosenbrock"): 1e-1, ("lbfgs", "beale"): 1.0, ("lbfgs", "himmelblau"): 1e-1,
    ("lbfgs", "saddle"): 1e-1,
}
SECOND_START = {"rosenbrock": (0.5, -0.5), "beale": (-2.0, -1.0), "himmelblau": (1.0, 1.0), "saddle": (1.5, -0.2)}


def torch_run(name, fn_name, start, hyper, steps=STEPS):
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = TORCH[name](hyper, param)
    return torch_path(opt, param, fn_name, steps), opt.state[param]


def relative_error(ours, theirs):
    return np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs)))


@pytest.mark.parametrize("name, fn_name", sorted(CASES))
def test_matches_torch_step_for_step(name, fn_name):
    opt, fn = optimizers.get(name), functions.get(fn_name)
    hyper = {**opt.defaults, "lr": CASES[name, fn_name]}
    starts = [fn.start, SECOND_START[fn_name]]
    ours = run_batch(opt, fn, starts, STEPS, hyper, escape_factor=1e9).points
    for i, start in enumerate(starts):
        theirs, _ = torch_run(name, fn_name, start, hyper)
        assert np.isfinite(ours[i]).all()
        assert relative_error(ours[i], theirs) <= 1e-12, (start, relative_error(ours[i], theirs))
        assert np.abs(theirs[-1] - theirs[0]).max() > 1e-2  # the runs really moved


def _torch_value(value):
    return value.detach().numpy() if torch.is_tensor(value) else np.asarray(value, float)


@pytest.mark.parametrize("name", ["rprop", "asgd", "adafactor"])
def test_state_is_torch_state(name, drive):
    """The state fields are torch's state keys and hold the same numbers (ASGD's average ax included)."""
    opt, fn = optimizers.get(name), functions.get("beale")
    hyper = {**opt.defaults, "lr": CASES[name, "beale"]}
    if name == "asgd":
        hyper["t0"] = 20.0  # averaging starts at step 21, so ax differs from the iterate
    _, theirs = torch_run(name, "beale", fn.start, hyper)
    points, ours = drive(opt, fn, [fn.start], STEPS, hyper)
    assert set(ours._fields) == set(theirs)
    for key, value in theirs.items():
        expected = _torch_value(value)
        np.testing.assert_allclose(np.reshape(getattr(ours, key), expected.shape), expected, rtol=1e-12,
                                   atol=1e-300, err_msg=key)
    if name == "asgd":
        assert np.abs(ours.ax[0] - points[-1, 0]).max() > 1e-3  # a real average, not the iterate


def test_asgd_average_is_the_iterate_until_t0():
    opt, fn = optimizers.get("asgd"), functions.get("beale")
    hyper = {**opt.defaults, "lr": 1e-2}
    runs = run_batch(opt, fn, [fn.start], STEPS, hyper, record_state=True)
    np.testing.assert_array_equal(runs.state["ax"][0, 1:], runs.points[0, 1:])  # default t0 = 10⁶: ax ← θ
    assert runs.state["eta"].shape == runs.state["mu"].shape == (1, STEPS + 1, 1)


def lbfgs_state(state, drive_state, row=0):
    """torch's L-BFGS state (lists of pairs) next to ours (a count, the newest pair and the closed form's numbers)."""
    used = int(drive_state.num_old[row, 0])
    assert len(state.get("old_dirs", [])) == used
    memory = drive_state.memory
    pairs = {
        "func_evals": (drive_state.func_evals, state["func_evals"]),
        "n_iter": (drive_state.n_iter[row, 0], state["n_iter"]),
    }
    if used:  # the newest pair is torch's last one
        pairs["old_dirs"] = memory.y[row], _torch_value(state["old_dirs"][-1])
        pairs["old_stps"] = memory.s[row], _torch_value(state["old_stps"][-1])
        pairs["ro"] = memory.ro[row, 0], float(state["ro"][-1])
    for key in ("d", "t", "H_diag", "prev_flat_grad"):
        if key in state:  # a run that never iterated has none of them
            pairs[key] = (np.reshape(getattr(drive_state, key)[row], np.shape(_torch_value(state[key]))),
                          _torch_value(state[key]))
    return pairs


def assert_close_to_scale(mine, theirs, key, rel=1e-8):
    """Equal up to ``rel`` times the array's largest entry. Near a minimum the gradient is a small difference of
    large terms, so its relative rounding grows (|g| ~ 1e-7 leaves it about 9 correct digits, in torch's autograd
    and ours alike); the memory holds differences of such gradients (y = g − g_prev) and coefficients computed
    from them. The positions themselves are compared to 1e-12."""
    mine, theirs = np.asarray(mine, float), np.asarray(theirs, float)
    assert mine.shape == theirs.shape, key
    assert np.abs(mine - theirs).max(initial=0) <= rel * np.abs(theirs).max(initial=0), key


def test_lbfgs_state_is_torch_state(drive):
    opt, fn = optimizers.get("lbfgs"), functions.get("beale")
    hyper = {**opt.defaults, "lr": 1.0}
    _, theirs = torch_run("lbfgs", "beale", fn.start, hyper)
    _, ours = drive(opt, fn, [fn.start], STEPS, hyper)
    # torch's keys but prev_loss, which only a check that max_iter = 1 never reaches reads, and al, the two-loop's
    # scratch coefficients; num_old is len(old_dirs), and memory holds old_dirs, old_stps and ro in closed form
    assert set(ours._fields) == set(theirs) - {"prev_loss", "al", "old_dirs", "old_stps", "ro"} | {"num_old", "memory"}
    assert 2 <= ours.num_old[0, 0] < STEPS  # pairs were kept, and some were skipped (yᵀs ≤ 1e-10)
    for key, (mine, torch_value) in lbfgs_state(theirs, ours).items():
        assert_close_to_scale(mine, torch_value, key)


def test_lbfgs_takes_each_branch_per_run(drive):
    """One batch whose runs take torch's branches at different steps (the early return at tolerance_grad, the
    skipped memory update, the first step's min(1, 1/‖g‖₁)), each equal to torch alone, state included."""
    opt, fn = optimizers.get("lbfgs"), functions.get("himmelblau")
    starts = [(3.0 + 1e-3, 2.0 - 1e-3), (0.0, 0.0), (-0.27, -0.9), (3.0, 2.0), (-2.8, 3.1)]
    lrs = np.array([[1.0], [0.1], [1.0], [1.0], [0.5]])
    hyper = {**opt.defaults, "lr": lrs, "tolerance_grad": np.array([[1e-4], [1e-7], [1e-7], [1e-7], [1e-7]])}
    points, state = drive(opt, fn, starts, STEPS, hyper)
    for i, start in enumerate(starts):
        alone = {key: (value[i, 0] if np.ndim(value) else value) for key, value in hyper.items()}
        theirs, torch_state = torch_run("lbfgs", "himmelblau", start, alone)
        assert relative_error(points[:, i], theirs) <= 1e-12, (start, relative_error(points[:, i], theirs))
        for key, (mine, torch_value) in lbfgs_state(torch_state, state, i).items():
            assert_close_to_scale(mine, torch_value, (start, key))
    iterations = state.n_iter[:, 0]
    assert iterations[3] == 0  # started at the minimizer, where g = 0: every step returned early
    assert 0 < iterations[0] < STEPS  # reached max|g| ≤ 1e-4, then returned early
    assert iterations[2] == STEPS
    moved = (np.diff(points, axis=0) != 0).any(axis=2).sum(axis=0)
    assert moved[2] < iterations[2]  # iterations whose gᵀd > −tolerance_change: d and t kept, no move
    assert (state.num_old[:, 0] < np.maximum(iterations - 1, 0)).any()  # a pair was skipped


@pytest.mark.parametrize("lrs", [(0.01, 0.03, 0.3), (0.01, 0.3, 1.0)])
def test_lbfgs_full_memory_drops_its_oldest_pair_per_run(drive, lrs):
    """Past HISTORY_SIZE pairs a run drops its oldest pair, whatever the other runs' memories hold: batches where
    most runs' memories are full and where few are, each run equal to torch alone, memory included."""
    opt, fn = optimizers.get("lbfgs"), functions.get("himmelblau")
    steps = HISTORY_SIZE + 40
    hyper = {**opt.defaults, "lr": np.array(lrs)[:, None]}
    points, state = drive(opt, fn, [fn.start] * len(lrs), steps, hyper)
    full = state.num_old[:, 0] == HISTORY_SIZE
    assert full.any() and not full.all()
    for i, lr in enumerate(lrs):
        theirs, torch_state = torch_run("lbfgs", "himmelblau", fn.start, {**opt.defaults, "lr": lr}, steps)
        assert relative_error(points[:, i], theirs) <= 1e-12, (lr, relative_error(points[:, i], theirs))
        for key, (mine, torch_value) in lbfgs_state(torch_state, state, i).items():
            assert_close_to_scale(mine, torch_value, (lr, key))


@pytest.mark.parametrize("start", [(-0.27, -0.9), (3.0, 2.0)])
def test_lbfgs_evaluates_once_per_step(start):
    """With max_iter = 1 torch evaluates the closure once per step() call, moving or returning early (at
    Himmelblau's minimizer (3, 2)); our func_evals counts the same, one per engine step."""
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = TORCH["lbfgs"](optimizers.get("lbfgs").defaults, param)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (param[0] ** 2 + param[1] - 11) ** 2 + (param[0] + param[1] ** 2 - 7) ** 2
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)
    assert len(calls) == 10 == opt.state[param]["func_evals"]
    assert opt.state[param]["n_iter"] == (0 if start == (3.0, 2.0) else 10)


@pytest.mark.parametrize("name, mapping", [
    ("rprop", {"lr": "lr", "etaminus": ("etas", 0), "etaplus": ("etas", 1), "step_size_min": ("step_sizes", 0),
               "step_size_max": ("step_sizes", 1)}),
    ("asgd", {"lr": "lr", "lambd": "lambd", "alpha": "alpha", "t0": "t0", "weight_decay": "weight_decay"}),
    ("adafactor", {"lr": "lr", "beta2_decay": "beta2_decay", "eps2": ("eps", 1), "d": "d",
                   "weight_decay": "weight_decay"}),
    ("lbfgs", {"lr": "lr", "tolerance_grad": "tolerance_grad", "tolerance_change": "tolerance_change"}),
])
def test_defaults_are_torch_defaults(name, mapping):
    cls = {"rprop": torch.optim.Rprop, "asgd": torch.optim.ASGD, "adafactor": torch.optim.Adafactor,
           "lbfgs": torch.optim.LBFGS}[name]
    params = inspect.signature(cls).parameters
    ours = optimizers.get(name).defaults
    assert set(ours) == set(mapping) | ({"eps1"} if name == "adafactor" else set())
    for key, theirs in mapping.items():
        default = params[theirs].default if isinstance(theirs, str) else params[theirs[0]].default[theirs[1]]
        assert float(default) == ours[key], (name, key)
    if name == "adafactor":  # torch's eps1 = None is the dtype's machine epsilon
        assert params["eps"].default[0] is None and ours["eps1"] == torch.finfo(torch.float64).eps
    if name == "lbfgs":
        assert params["history_size"].default == HISTORY_SIZE and params["max_iter"].default == 20

"""The command line: ``cli.main`` called in this process as a user's arguments reach it, and the entry point run as
a subprocess where only a process can tell (its exit status, ``python -m gallery_builder``)."""

import json
import time

import pytest
from conftest import main_cli, run_cli

from gallery_builder import functions, optimizers, trajectory

PROG = "gallery-builder"


@pytest.fixture
def cli(tmp_path):
    def run(*args):
        return main_cli(*args, cwd=tmp_path, cache=tmp_path / "cache")  # never the project's cache

    run.dir = tmp_path
    return run


def assert_user_error(result, *fragments):
    """Exit status 2, nothing on stdout, exactly one line on stderr naming every fragment, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{PROG}: error: "), lines[0]
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# --- list ---------------------------------------------------------------------------------------------------------


def test_list(cli):
    result = cli("list")
    assert result.returncode == 0 and result.stderr == ""
    text = result.stdout
    assert "Optimizers:" in text and "Functions:" in text
    for name in [*optimizers.CATALOGUE, *functions.CATALOGUE]:
        assert name in text, name


def test_list_json(cli):
    result = cli("list", "--json")
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    opts = {o["name"]: o for o in data["optimizers"]}
    fns = {f["name"]: f for f in data["functions"]}
    assert list(opts) == list(optimizers.CATALOGUE) and list(fns) == list(functions.CATALOGUE)
    assert opts["adam"]["hyperparameters"] == {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert "torch.optim.Adam" in opts["adam"]["equivalent"]
    assert all(o["reference"] for o in opts.values())
    rosen = fns["rosenbrock"]
    assert rosen["minimizers"] == [[1.0, 1.0]] and rosen["minimum"] == 0.0
    assert rosen["domain"] == [[-2.0, 2.0], [-1.0, 3.0]] and rosen["start"] == [-1.2, 1.0]
    assert rosen["bounded_below"] is True
    assert len(fns["himmelblau"]["minimizers"]) == 4
    assert fns["saddle"]["minimum"] is None and fns["saddle"]["minimizers"] == []


# --- run ----------------------------------------------------------------------------------------------------------


def test_run_csv(cli):
    result = cli("run", "--optimizer", "adam", "--function", "rosenbrock", "--steps", 5, "--set", "lr=0.01",
                 "--format", "csv")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.strip().split("\n")
    comments = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    assert any("adam" in c and "rosenbrock" in c and "lr=0.01" in c for c in comments)
    assert body[0] == "step,x,y,f"
    rows = [line.split(",") for line in body[1:]]
    assert len(rows) == 6
    assert [int(r[0]) for r in rows] == list(range(6))
    assert (float(rows[0][1]), float(rows[0][2])) == (-1.2, 1.0)
    assert float(rows[0][3]) == pytest.approx(24.2)
    values = [float(r[3]) for r in rows]
    assert values == sorted(values, reverse=True)  # Adam goes downhill over these first steps

    # the numbers are the engine's, to the last digit (printed with repr)
    run = trajectory("adam", "rosenbrock", steps=5, lr=0.01)
    for row, point, value in zip(rows, run.points, run.values):
        assert (float(row[1]), float(row[2]), float(row[3])) == (point[0], point[1], value)


def test_run_json(cli):
    result = cli("run", "--optimizer", "adam", "--function", "rosenbrock", "--steps", 5, "--set", "lr=0.01",
                 "--format", "json")
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["optimizer"] == "adam" and data["function"] == "rosenbrock"
    assert data["hyperparameters"]["lr"] == 0.01 and data["steps"] == 5
    assert data["columns"] == ["step", "x", "y", "f"]
    assert len(data["rows"]) == 6
    assert data["rows"][0][:3] == [0, -1.2, 1.0]
    assert data["status"] == "moving" and data["stop_step"] == -1 and data["steps_to_tolerance"] == -1


def test_run_with_start_and_a_diverging_run(cli):
    result = cli("run", "--optimizer", "sgd", "--function", "rosenbrock", "--start", "0.5", "0.5", "--steps", 50,
                 "--set", "lr=0.1", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rows"][0][1:3] == [0.5, 0.5]
    assert data["status"] in ("escaped", "diverged")
    assert len(data["rows"]) <= data["stop_step"] + 1  # nothing past the stop


# --- bad input: exit 2, one line, no traceback --------------------------------------------------------------------

RUN = ("run", "--optimizer", "adam", "--function", "rosenbrock")


@pytest.mark.parametrize("args, fragments", [
    (("run", "--optimizer", "adm", "--function", "rosenbrock"), ["adm", "adam"]),
    (("run", "--optimizer", "adam", "--function", "rosenbrok"), ["rosenbrok", "rosenbrock"]),
    (("run", "--optimizer", "adam", "--function", "nope"), ["nope"]),
    (RUN + ("--set", "lrr=0.1"), ["lrr"]),
    (RUN + ("--set", "lr=0"), ["lr"]),
    (RUN + ("--set", "lr=-1"), ["lr"]),
    (RUN + ("--set", "lr=nan"), ["lr"]),
    (RUN + ("--set", "lr=inf"), ["lr"]),
    (RUN + ("--set", "lr=fast"), ["lr"]),
    (RUN + ("--set", "beta1=1"), ["beta1"]),
    (RUN + ("--set", "lr"), ["lr"]),
    (RUN + ("--set", "lr=0.1", "--set", "lr=0.2"), ["lr"]),
    (RUN + ("--steps", "-1"), ["steps"]),
    (RUN + ("--steps", "abc"), ["steps"]),
    (RUN + ("--steps", "2.5"), ["steps"]),
    (RUN + ("--start", "nan", "0"), ["start"]),
    (RUN + ("--start", "inf", "0"), ["start"]),
    (RUN + ("--start", "x", "0"), ["start"]),
    (RUN + ("--start", "100", "100"), ["start", "domain"]),
    (RUN + ("--format", "xml"), ["format"]),
    (("run", "--function", "rosenbrock"), ["--optimizer"]),
    (("frobnicate",), ["frobnicate"]),
    ((), []),
    (("sweep", "--jobs", "0"), ["jobs"]),
])
def test_bad_input(cli, args, fragments):
    assert_user_error(cli(*args), *fragments)


def test_huge_step_count_is_refused_fast(cli):
    begin = time.perf_counter()
    result = cli(*RUN, "--steps", 10_000_000)
    elapsed = time.perf_counter() - begin
    assert_user_error(result, "steps", "10000000")
    assert elapsed < 10  # refused before running anything


# --- config errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, fragments", [
    ('[sweep]\nsteps = = 3\n', ["line 2"]),  # TOML syntax: the parser reports the line, not a key
    ('[sweep]\nsteps = "many"\n', ["sweep.steps", "many"]),
    ('[sweep]\nsteps = 0\n', ["sweep.steps"]),
    ('[sweep]\nsteps = true\n', ["sweep.steps"]),
    ('[sweep]\nstepz = 3\n', ["sweep.stepz"]),
    ('colour = "red"\n', ["colour"]),
    ('[sweep]\noptimizers = ["adam", "adm"]\n', ["sweep.optimizers", "adm", "adam"]),
    ('[sweep]\nfunctions = ["rosenbrok"]\n', ["sweep.functions", "rosenbrok"]),
    ('[sweep]\noptimizers = "adam"\n', ["sweep.optimizers"]),
    ('[sweep.learning_rates]\nper_decade = 0\n', ["sweep.learning_rates.per_decade"]),
    ('[sweep.learning_rates]\ndecades_below = nan\n', ["sweep.learning_rates.decades_below"]),
    ('[sweep]\ntolerance = -1.0\n', ["sweep.tolerance"]),
    ('sweep = 3\n', ["sweep"]),
    ('[optimizers.adam]\nlr = 0\n', ["optimizers.adam", "lr"]),
    ('[optimizers.adam]\nlr = nan\n', ["optimizers.adam", "lr"]),
    ('[optimizers.adam]\nlrr = 0.1\n', ["optimizers.adam", "lrr"]),
    ('[optimizers.adm]\nlr = 0.1\n', ["optimizers.adm", "adam"]),
    ('[functions.rosenbrock]\nstart = [100, 100]\n', ["functions.rosenbrock.start"]),
    ('[functions.rosenbrock]\nbegin = [0, 0]\n', ["functions.rosenbrock.begin"]),
    ('[site]\ntitle = 5\n', ["site.title"]),
])
def test_config_errors_name_the_file_and_the_key(cli, text, fragments):
    path = cli.dir / "bad-gallery.toml"
    path.write_text(text, encoding="utf-8")
    line = assert_user_error(cli("sweep", "--config", path.name), path.name, *fragments)
    assert line.count(path.name) == 1


def test_missing_config_file(cli):
    assert_user_error(cli("sweep", "--config", "no-such-file.toml"), "no-such-file.toml")


def test_default_config_in_the_working_directory_is_read(cli):
    (cli.dir / "gallery.toml").write_text('[sweep]\nsteps = "many"\n', encoding="utf-8")
    assert_user_error(cli("sweep"), "gallery.toml", "sweep.steps")


def test_config_error_with_a_newline_in_a_key_is_one_line(cli):
    path = cli.dir / "bad-gallery.toml"
    path.write_text('[sweep]\n"x\\ny" = 1\n', encoding="utf-8")
    assert_user_error(cli("sweep", "--config", path.name), path.name)


# --- the entry point, in a process of its own ---------------------------------------------------------------------


def test_the_entry_point_exits_0_with_the_listing(tmp_path):
    result = run_cli("list", "--json", cwd=tmp_path, cache=tmp_path / "cache", timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    assert [o["name"] for o in json.loads(result.stdout)["optimizers"]] == list(optimizers.CATALOGUE)


def test_the_entry_point_exits_2_on_bad_input(tmp_path):
    result = run_cli(*RUN, "--set", "lr=0", cwd=tmp_path, cache=tmp_path / "cache", timeout=60)
    assert_user_error(result, "lr")

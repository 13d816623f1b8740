"""docs/add-your-own.md, followed word for word: its examples run, and the suite passes with its optimizer added."""

import re
import shutil
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from conftest import ROOT, cli_env
from gallery_builder import config, embeds, engine, functions, optimizers

DOC = (ROOT / "docs" / "add-your-own.md").read_text()


def blocks(language: str) -> list:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def test_the_optimizer_example_runs(monkeypatch):
    """The signSGD example, run in its family's module (sign.py, as the doc says), registers an optimizer, last in
    the catalogue, that steps by −lr·sign(∇f)."""
    assert "signSGD below belongs in `sign.py`" in DOC
    monkeypatch.setitem(optimizers.CATALOGUE, "signsgd", None)  # so that the entry goes when the test ends
    exec(compile(blocks("python")[0], "docs/add-your-own.md", "exec"), dict(vars(optimizers.sign)))
    assert list(optimizers.CATALOGUE)[-1] == "signsgd" and optimizers.get("signsgd").title == "signSGD"
    run = engine.trajectory("signsgd", "booth", steps=5, lr=0.5)
    grads = functions.get("booth").gradient(run.points[:-1])
    np.testing.assert_array_equal(np.diff(run.points, axis=0), -0.5 * np.sign(grads))


def test_the_view_example_is_momentums_registered_view():
    """The view example is the panel momentum registers in sgd.py, word for word; the signSGD example's look is
    one no optimizer of the catalogue is too close to."""
    example = blocks("python")[1]
    source = (ROOT / "gallery_builder" / "optimizers" / "sgd.py").read_text()
    assert " ".join(example.split()) in " ".join(source.split())
    namespace = dict(vars(optimizers.sgd))
    exec(compile(example, "docs/add-your-own.md", "exec"), namespace)
    registered = optimizers.get("momentum").views[1]
    assert (namespace["_BUFFER"].name, namespace["_BUFFER"].meaning, namespace["_BUFFER"].fields) == \
        (registered.name, registered.meaning, registered.fields)
    look = re.search(r"look=(Look\(.*?\))", blocks("python")[0]).group(1)
    optimizers.looks.check_apart({**{n: o.look for n, o in optimizers.CATALOGUE.items()},
                                  "signsgd": eval(look, vars(optimizers))})


def test_the_kind_example_is_the_registry_entry():
    """The figure-kind example is KINDS["lrmap"] as embeds.py writes it."""
    example = blocks("python")[2]
    source = (ROOT / "gallery_builder" / "embeds.py").read_text()
    assert " ".join(example.split()) in " ".join(source.split())
    kind = eval(example, vars(embeds))
    assert kind.name == "lrmap" and kind.figure is embeds.KINDS["lrmap"].figure


def test_the_settings_example_parses_and_says_the_defaults():
    """The gallery.toml example is valid, and the values it calls defaults are the defaults."""
    (example,) = blocks("toml")
    settings = config.parse(tomllib.loads(example), "docs/add-your-own.md")
    defaults = config.Settings()
    for key in ("basin_grid", "tolerance", "lr_per_decade", "lr_decades_below", "lr_decades_above", "lr_limit_below",
                "lr_limit_above", "noise_seeds", "noise_fraction", "schedules"):
        assert getattr(settings, key) == getattr(defaults, key), key
    assert settings.steps_for("rosenbrock") == 1000 == config.parse({}).steps_for("rosenbrock")
    assert settings.sigma_for("rosenbrock") == 2.0 and settings.hyper("adam")["beta1"] == 0.8


def test_the_explanation_example_numbers_are_the_runs():
    """`{{ run("sgd", "saddle", 0.1).leaves }}` writes "leaves at step 55"."""
    assert '`{{ run("sgd", "saddle", 0.1).leaves }}` writes "leaves at step 55"' in DOC
    run = engine.trajectory("sgd", "saddle", lr=0.1)
    assert run.status == "escaped" and run.stop_step == 55


# The test files whose tests take every optimizer of the catalogue.
CATALOGUE_TESTS = ["tests/test_optimizers.py", "tests/test_figures.py", "tests/test_engine.py",
                   "tests/test_needs_minimum.py"]


@pytest.mark.slow
def test_the_suite_passes_with_the_optimizer_example(tmp_path):
    """A copy of the project with the signSGD example appended to sign.py: the catalogue's tests pass with it."""
    for name in ("gallery_builder", "tests", "docs"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("gallery", "__pycache__"))
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    module = tmp_path / "gallery_builder" / "optimizers" / "sign.py"
    module.write_text(module.read_text() + "\n\n" + blocks("python")[0])
    env = {**cli_env(), "PYTHONPATH": str(tmp_path)}
    listed = subprocess.run([sys.executable, "-m", "gallery_builder", "list"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "signsgd" in listed.stdout
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
                             "not slow and not browser", *CATALOGUE_TESTS], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "signsgd" in subprocess.run([sys.executable, "-m", "pytest", "-q", "--co", "-p", "no:cacheprovider",
                                        "tests/test_optimizers.py"], cwd=tmp_path, env=env, capture_output=True,
                                       text=True, timeout=120).stdout

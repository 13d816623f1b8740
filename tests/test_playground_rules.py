"""Without a browser: the playground has a JS rule for every catalogue optimizer and generated JS for every test
function, and ships the noise of ``trajectory(..., noise=σ, seed=s)``."""

from __future__ import annotations

import re

import numpy as np

from gallery_builder import engine, functions, jsgen, optimizers


def test_every_catalogue_optimizer_has_a_js_rule():
    """A rule missing from playground.js's registry fails here, before any browser runs it."""
    text = jsgen.assets()["playground.js"].decode()
    block = text[text.index("const RULES = {"):text.index("\n  };", text.index("const RULES = {"))]
    rules = set(re.findall(r"^    (\w+): ", block, re.M))
    assert set(optimizers.CATALOGUE) <= rules, sorted(set(optimizers.CATALOGUE) - rules)


def test_every_function_has_generated_js():
    code = jsgen.catalogue_js()
    for name in functions.CATALOGUE:
        assert f'"{name}": {{\n  v(x, y) {{' in code


def test_the_noise_table_holds_the_engines_draws():
    """The ξ the engine adds to the gradients of a run with σ = 1, read from the engine's own noise source."""
    steps = jsgen.noise_steps()
    table = np.frombuffer(jsgen.noise_table(), "<f8").reshape(jsgen.NOISE_SEEDS, steps, 2)
    for seed in (0, 7, jsgen.NOISE_SEEDS - 1):
        member = engine.Member(optimizers.get("sgd"), np.zeros((1, 2)), {}, noise=1.0, seed=seed)
        noise = engine._Noise([member], [1], steps)
        drawn = np.concatenate([noise(np.zeros((1, 2)), i) for i in range(steps)])
        np.testing.assert_array_equal(table[seed], drawn)

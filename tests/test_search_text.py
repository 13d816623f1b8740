"""The search index reads formulas as text (gallery_builder/search_text.py, the MkDocs plugin gallery-search-text):
no LaTeX in search results, while the pages keep theirs for KaTeX."""

from __future__ import annotations

import json
import re

import pytest

from gallery_builder.search_text import plain, readable_math


@pytest.mark.parametrize("latex, text", [
    (r"\(\beta_1\)", "β₁"),
    (r"\(f(\theta) - f^*\)", "f(θ) - f*"),
    (r"\((\sum_t g_t g_t^\top)^{-1/2}\)", "(Σₜ gₜ gₜᵀ)^(-1/2)"),
    (r"\[\theta_{t+1} = \theta_t - \frac{\eta\, \hat m_t}{\sqrt{\hat v_t} + \epsilon}\]",
     "θₜ₊₁ = θₜ - (η m̂ₜ)/(√(v̂ₜ) + ε)"),
    (r"\(10^{-6}\)", "10⁻⁶"),
    (r"\operatorname*{argmin}_{x \in \mathbb{R}^2} f(x)", "argmin_(x ∈ ℝ²) f(x)"),
    (r"\begin{aligned} m_t &= \beta_1 m_{t-1} \\ v_t &= \beta_2 v_{t-1} \end{aligned}", "mₜ = β₁ mₜ₋₁; vₜ = β₂ vₜ₋₁"),
    (r"\left\| g \right\|_2^{2}", "‖ g ‖₂²"),
    (r"\frac{1}{2}", "1/2"),
    (r"x_{\text{new}} \le \text{tolerance}", "x_(new) ≤ tolerance"),
    (r"{a}^{b_{c}} \unknown", "a^(b_c) unknown"),
])
def test_a_formula_reads_as_text(latex, text):
    assert plain(latex) == text


def test_only_the_formulas_of_a_page_change_and_stay_escaped():
    html = ('<p>If <span class="arithmatex">\\(a &lt; b\\)</span> then <code>\\(x\\)</code></p>'
            '<div class="arithmatex">\\[\\frac{a}{b}\\]</div>')
    assert readable_math(html) == ('<p>If <span class="arithmatex">a &lt; b</span> then <code>\\(x\\)</code></p>'
                                   '<div class="arithmatex">a/b</div>')


LATEX = re.compile(r"\\[()\[\]]|\$|\\[A-Za-z]+")


def test_the_built_search_index_has_no_latex_and_the_pages_keep_theirs(small_site):
    site = small_site / "site"
    docs = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    raw = []
    for doc in docs:
        prose = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", doc["title"] + " " + doc["text"], flags=re.S)
        raw += [f"{doc['location']}: {m.group(0)}" for m in LATEX.finditer(prose)]
    assert raw == []
    # The formulas were there to convert: the glossary's and Methodology's as text, and as LaTeX on their pages.
    texts = {doc["location"]: doc["text"] for doc in docs}
    assert "f(θ) - f*" in texts["glossary.html"] and "(Σₜ gₜ gₜᵀ)^(-1/2)" in texts["methodology.html#not-here-and-why"]
    assert '<span class="arithmatex">\\(f(\\theta) - f^*\\)</span>' in (site / "glossary.html").read_text()

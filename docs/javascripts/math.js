// Typesets the math that pymdownx.arithmatex marks (generic mode: \( \) inline, \[ \] display) with KaTeX, served
// from this site (no CDN). KaTeX is loaded, and the page's formulas typeset, once the first of them comes into view:
// a page opened at a figure (its formulas above) spends its first second on the figure, not on KaTeX.
(function () {
  "use strict";
  var root = new URL("../gallery/assets/katex/", document.currentScript.src).href;
  var loading = false;

  function typeset() {
    document.querySelectorAll(".arithmatex").forEach(function (element) {
      if (element.querySelector(".katex")) return; // typeset already
      var text = element.textContent.trim();
      katex.render(text.slice(2, -2), element, { displayMode: text.slice(0, 2) === "\\[", throwOnError: false });
    });
  }

  function typesetSoon() {
    if (window.katex) return typeset();
    if (loading) return; // typeset when KaTeX arrives
    loading = true;
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = root + "katex.min.css";
    var script = document.createElement("script");
    script.src = root + "katex.min.js";
    script.onload = typeset;
    document.head.append(style, script);
  }

  var seen = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    if (!entries.some(function (entry) { return entry.isIntersecting; })) return;
    seen.disconnect();
    typesetSoon();
  }) : null;

  // Called for every page: the first one and each one Material's instant navigation swaps in.
  function onPage() {
    if (seen) seen.disconnect();
    var formulas = document.querySelectorAll(".arithmatex");
    if (!formulas.length) return;
    if (!seen) return typesetSoon();
    formulas.forEach(function (element) { seen.observe(element); });
  }

  if (typeof document$ !== "undefined") document$.subscribe(onPage);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onPage);
  else onPage();
})();

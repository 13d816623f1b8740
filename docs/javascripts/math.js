// Typesets the math that pymdownx.arithmatex marks (generic mode: \( \) inline, \[ \] display) with KaTeX, served
// from this site (no CDN) and loaded only by pages that have math.
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

  // Called for every page: the first one and each one Material's instant navigation swaps in.
  function onPage() {
    if (!document.querySelector(".arithmatex")) return;
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

  if (typeof document$ !== "undefined") document$.subscribe(onPage);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onPage);
  else onPage();
})();

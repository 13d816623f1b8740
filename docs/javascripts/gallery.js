// The gallery's filters (optimizer, function; kept in the URL's query), the embeds loaded as they come near and the
// figures loaded on request. Set up on every page Material's instant navigation swaps in, as well as on the first.
(function () {
  "use strict";

  function setUpFilters(root) {
    var box = root.querySelector(".og-filters");
    if (!box) return;
    var selects = box.querySelectorAll("select[data-filter]");
    var cards = root.querySelectorAll(".og-card");
    var count = box.querySelector(".og-count");
    var query = new URLSearchParams(location.search);

    function apply() {
      var shown = 0;
      var params = new URLSearchParams(location.search);
      cards.forEach(function (card) {
        var match = true;
        selects.forEach(function (select) {
          if (select.value && card.dataset[select.dataset.filter] !== select.value) match = false;
        });
        card.hidden = !match;
        shown += match;
      });
      selects.forEach(function (select) {
        if (select.value) params.set(select.dataset.filter, select.value);
        else params.delete(select.dataset.filter);
      });
      count.textContent = shown + " of " + cards.length + " shown";
      var search = params.toString();
      history.replaceState(history.state, "", location.pathname + (search ? "?" + search : "") + location.hash);
    }

    selects.forEach(function (select) {
      var wanted = query.get(select.dataset.filter);
      if (wanted && select.querySelector('option[value="' + CSS.escape(wanted) + '"]')) select.value = wanted;
      select.addEventListener("change", apply);
    });
    box.hidden = false;
    apply();
  }

  function setUpDeferred(root) {
    root.querySelectorAll("a.og-deferred").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // a new tab: the figure alone
        event.preventDefault();
        var frame = document.createElement("iframe");
        frame.className = "og-embed";
        frame.src = link.getAttribute("href");
        frame.title = link.dataset.title;
        frame.style.aspectRatio = link.dataset.ratio;
        link.replaceWith(frame);
        frame.focus();
      });
    });
  }

  // Embeds load when they come within a screen of the viewport (a frame in a closed tab never intersects), one at a
  // time from the top: same-origin frames share the page's main thread, so the first figure is drawn sooner alone.
  var queue = [], loading = null;
  function pump() {
    if (loading || !queue.length) return;
    var frame = loading = queue.shift();
    frame.addEventListener("load", function done() {
      frame.removeEventListener("load", done);
      if (loading !== frame) return; // a page swapped in by instant navigation has its own queue
      loading = null;
      pump();
    });
    frame.src = frame.dataset.src;
  }
  var frames = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      frames.unobserve(entry.target);
      queue.push(entry.target);
    });
    queue.sort(function (a, b) { return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1; });
    pump();
  }, { rootMargin: "100% 0px" }) : null;

  function setUpFrames(root) {
    queue = [];
    loading = null;
    if (frames) frames.disconnect();
    root.querySelectorAll("iframe.og-embed[data-src]:not([src])").forEach(function (frame) {
      if (frames) frames.observe(frame);
      else frame.src = frame.dataset.src;
    });
  }

  function setUp() {
    setUpFilters(document);
    setUpDeferred(document);
    setUpFrames(document);
  }

  if (typeof document$ !== "undefined") document$.subscribe(setUp);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

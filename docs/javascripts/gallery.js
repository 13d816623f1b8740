// The gallery's filters (optimizer, function; kept in the URL's query), the embeds loaded as they come near and the
// figures loaded on request. Set up on every page Material's instant navigation swaps in, as well as on the first.
(function () {
  "use strict";
  // A page with embeds runs this script early, from the end of its content, so that its first embeds start loading
  // while Material sets itself up; Material's extra script, the same file, then finds it done.
  if (window.ogGallery) return;
  window.ogGallery = true;

  // The gallery's filters as the reader last set them, kept for this tab so that a viewer page's way back returns to
  // them; null when there are none (or the browser keeps no storage for the page).
  var KEPT = "og-gallery-filters";
  function keptFilters() {
    try {
      var kept = JSON.parse(sessionStorage.getItem(KEPT));
      return kept && typeof kept.optimizer === "string" && typeof kept["function"] === "string" ? kept : null;
    } catch (error) {
      return null;
    }
  }

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
      // A select at its default stays out of the URL; "all" where the default is one function is written out.
      selects.forEach(function (select) {
        if (select.value === (select.dataset.default || "")) params.delete(select.dataset.filter);
        else params.set(select.dataset.filter, select.value);
      });
      count.textContent = shown + " of " + cards.length + " shown";
      var kept = {};
      selects.forEach(function (select) { kept[select.dataset.filter] = select.value; });
      try { sessionStorage.setItem(KEPT, JSON.stringify(kept)); } catch (error) { /* no storage: the default way back */ }
      var search = params.toString();
      history.replaceState(history.state, "", location.pathname + (search ? "?" + search : "") + location.hash);
    }

    // A select missing from the query opens on its default (the gallery on one function, not 446 cards at once).
    selects.forEach(function (select) {
      var name = select.dataset.filter;
      var wanted = query.has(name) ? query.get(name) : select.dataset.default;
      if (wanted && select.querySelector('option[value="' + CSS.escape(wanted) + '"]')) select.value = wanted;
      select.addEventListener("change", apply);
    });
    box.hidden = false;
    apply();
  }

  // A function's viewer page (a gallery card opened in the site): the section the address's ?optimizer= names,
  // alone, under its title; when the address names none of them, a message above the list of every optimizer.
  function setUpViewer(root) {
    var viewer = root.querySelector(".og-viewer");
    if (!viewer) return;
    var wanted = new URLSearchParams(location.search).get("optimizer"), chosen = null;
    viewer.querySelectorAll(".og-view").forEach(function (section) {
      section.hidden = section.dataset.optimizer !== wanted;
      if (!section.hidden) chosen = section;
    });
    viewer.classList.toggle("og-one", Boolean(chosen));
    viewer.querySelectorAll(".og-viewer-index a").forEach(function (link) {
      if (chosen && new URL(link.href, location.href).searchParams.get("optimizer") === wanted) {
        link.setAttribute("aria-current", "page");
      } else {
        link.removeAttribute("aria-current");
      }
    });
    var message = viewer.querySelector(".og-viewer-message");
    message.hidden = Boolean(chosen);
    message.textContent = wanted ? "\u201c" + wanted + "\u201d is not an optimizer of this gallery on " +
      viewer.dataset.title + ": pick one below." : "Pick an optimizer below to see its run on " +
      viewer.dataset.title + ".";
    var heading = viewer.querySelector("h1");
    if (chosen && heading && heading.firstChild && heading.firstChild.nodeType === Node.TEXT_NODE) {
      document.title = document.title.replace(heading.firstChild.nodeValue, chosen.dataset.title);
      heading.firstChild.nodeValue = chosen.dataset.title;
    }
    // Back to the gallery as the reader left it, when that shows this card; else to the gallery on this function.
    var back = viewer.querySelector(".og-viewer-back a"), kept = keptFilters();
    if (chosen && kept && [viewer.dataset.function, ""].indexOf(kept["function"]) >= 0 &&
        [wanted, ""].indexOf(kept.optimizer) >= 0) {
      back.href = back.dataset.gallery + "?" + new URLSearchParams(kept).toString();
    }
  }

  // Tables whose headings sort them (the scorecard): a number's sort key is its link's data-sort, and a cell
  // without one (nothing measured) goes last in either order.
  function setUpSorting(root) {
    root.querySelectorAll(".og-scorecard table").forEach(function (table) {
      var body = table.tBodies[0];
      table.querySelectorAll("thead th").forEach(function (th, column) {
        if (th.querySelector("button")) return;
        var button = document.createElement("button");
        button.type = "button";
        while (th.firstChild) button.appendChild(th.firstChild);
        th.appendChild(button);
        button.addEventListener("click", function () {
          var down = th.getAttribute("aria-sort") !== "descending";
          table.querySelectorAll("thead th").forEach(function (other) { other.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", down ? "descending" : "ascending");
          var rows = [].slice.call(body.rows).map(function (row) {
            var cell = row.cells[column], keyed = cell.querySelector("[data-sort]");
            var raw = keyed ? keyed.dataset.sort : cell.textContent.trim();
            return { row: row, empty: raw === "" || raw === "–", number: parseFloat(raw), text: raw };
          });
          rows.sort(function (a, b) {
            if (a.empty !== b.empty) return a.empty ? 1 : -1;
            var order = isNaN(a.number) || isNaN(b.number) ? a.text.localeCompare(b.text) : a.number - b.number;
            return down ? -order : order;
          });
          rows.forEach(function (r) { body.appendChild(r.row); });
        });
      });
    });
  }

  // Content tabs wider than the page scroll sideways: a fade at the right edge says more follow, until the end.
  function setUpTabHints(root) {
    root.querySelectorAll(".tabbed-labels").forEach(function (labels) {
      function mark() {
        labels.classList.toggle("og-more", labels.scrollLeft + labels.clientWidth < labels.scrollWidth - 2);
      }
      labels.addEventListener("scroll", mark, { passive: true });
      window.addEventListener("resize", mark);
      mark();
    });
  }

  // The iframe that shows the figure a link points to, in the link's place.
  function swapInFrame(link) {
    var frame = document.createElement("iframe");
    frame.className = "og-embed";
    frame.dataset.src = link.dataset.src || link.getAttribute("href"); // Material's instant navigation makes hrefs absolute
    frame.title = link.dataset.title;
    frame.style.aspectRatio = link.dataset.ratio || link.style.aspectRatio;
    frame.src = frame.dataset.src;
    link.replaceWith(frame);
    return frame;
  }

  function setUpDeferred(root) {
    root.querySelectorAll("a.og-deferred").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // a new tab: the figure alone
        event.preventDefault();
        swapInFrame(link).focus();
      });
    });
  }

  // Embeds load when their link comes within a screen of the viewport (a link in a closed tab never intersects), one
  // at a time from the top: same-origin frames share the page's main thread, so the first figure is drawn sooner
  // alone.
  var queue = [], loading = null, page = null, seen = new WeakSet();
  function pump() {
    if (loading || !queue.length) return;
    var link = queue.shift();
    var frame = loading = swapInFrame(link);
    frame.addEventListener("load", function done() {
      frame.removeEventListener("load", done);
      if (loading !== frame) return; // a page swapped in by instant navigation has its own queue
      loading = null;
      pump();
    });
  }
  function inOrder(a, b) { return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1; }
  var links = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      links.unobserve(entry.target);
      queue.push(entry.target);
    });
    queue.sort(inOrder);
    pump();
  }, { rootMargin: "100% 0px" }) : null;

  function setUpFrames(root) {
    if (page !== location.pathname && links) links.disconnect(); // a new page: the last one's links are gone
    page = location.pathname;
    queue = queue.filter(function (link) { return link.isConnected; });
    if (loading && !loading.isConnected) loading = null;
    // Near the section the address names (the browser may not have scrolled to it yet), or near the viewport.
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var top = target ? target.getBoundingClientRect().top : 0;
    root.querySelectorAll("a.og-embed").forEach(function (link) {
      if (seen.has(link)) return;
      seen.add(link);
      var box = link.getBoundingClientRect();
      // Already near (the page was opened at a figure): queued now rather than at the observer's first report.
      if (links && box.height && box.bottom - top > -innerHeight && box.top - top < 2 * innerHeight) queue.push(link);
      else if (links) links.observe(link);
      else swapInFrame(link);
    });
    queue.sort(inOrder);
    pump();
  }

  function setUp() {
    setUpViewer(document);
    setUpFilters(document);
    setUpSorting(document);
    setUpTabHints(document);
    setUpDeferred(document);
    setUpFrames(document);
  }

  setUpViewer(document); // before the frames: only the chosen section's figure is to load
  setUpFrames(document);
  function start() {
    if (typeof document$ !== "undefined") document$.subscribe(setUp); // and every page instant navigation swaps in
    else setUp();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

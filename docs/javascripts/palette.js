// Tell embedded figures when the reader switches between light and dark, so they restyle without reloading; and
// give a narrow embed the height it asks for (its panels stack on a phone).
(function () {
  function post() {
    var scheme = document.body.getAttribute("data-md-color-scheme") || "default";
    document.querySelectorAll("iframe.og-embed").forEach(function (frame) {
      if (frame.contentWindow) frame.contentWindow.postMessage({ type: "md-color-scheme", scheme: scheme }, "*");
    });
  }
  new MutationObserver(post).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  document.addEventListener("load", function (event) {
    if (event.target.classList && event.target.classList.contains("og-embed")) post();
  }, true);
  window.addEventListener("message", function (event) {
    if (!event.data || event.data.type !== "og-embed-height") return;
    document.querySelectorAll("iframe.og-embed").forEach(function (frame) {
      if (frame.contentWindow !== event.source) return;
      var height = Number(event.data.height);
      frame.style.height = height > 0 ? Math.min(height, 4000) + "px" : "";
      frame.style.minHeight = height > 0 ? "0" : "";
    });
  });
})();

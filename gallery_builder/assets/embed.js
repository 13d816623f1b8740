// Draws one gallery figure from the JSON beside it, follows the parent page's light/dark palette and plays
// step animations by slicing the full arrays (so the trail keeps every step). Shared by every embed.
(function () {
  "use strict";
  var spec = JSON.parse(document.getElementById("figure-data").textContent);
  var gd = document.getElementById("figure");
  var THEMES = {
    light: { paper: "#ffffff", font: "#1f2328", grid: "#e3e3e3", line: "#9a9a9a", panel: "#f4f4f4" },
    dark: { paper: "#1e2129", font: "#e2e4e9", grid: "#3a3f4b", line: "#6b7280", panel: "#2b2f3a" },
  };
  var TYPES = { f4: Float32Array, f8: Float64Array, i2: Int16Array, u1: Uint8Array };

  function decode(value) {
    if (!value || typeof value.bdata !== "string") return value;
    var raw = atob(value.bdata);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return new TYPES[value.dtype](bytes.buffer);
  }

  function parentScheme() {
    try {
      var body = window.parent.document.body;
      return body && body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
    } catch (error) {
      return null; // a cross-origin parent: wait for its message
    }
  }

  function themeUpdate(name) {
    var t = THEMES[name];
    var update = { paper_bgcolor: t.paper, plot_bgcolor: t.paper, "font.color": t.font, "legend.bgcolor": "rgba(0,0,0,0)" };
    Object.keys(spec.layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        update[key + ".gridcolor"] = t.grid;
        update[key + ".zerolinecolor"] = t.line;
        update[key + ".linecolor"] = t.line;
      }
      if (/^scene\d*$/.test(key)) {
        ["xaxis", "yaxis", "zaxis"].forEach(function (axis) {
          update[key + "." + axis + ".gridcolor"] = t.grid;
          update[key + "." + axis + ".backgroundcolor"] = t.panel;
        });
      }
    });
    (spec.layout.sliders || []).forEach(function (_, i) {
      update["sliders[" + i + "].bgcolor"] = t.panel;
      update["sliders[" + i + "].bordercolor"] = t.line;
    });
    (spec.layout.updatemenus || []).forEach(function (_, i) {
      update["updatemenus[" + i + "].bgcolor"] = t.panel;
      update["updatemenus[" + i + "].bordercolor"] = t.line;
    });
    return update;
  }

  var theme = parentScheme() || "light";

  function setTheme(name) {
    if (name === theme || !THEMES[name]) return;
    theme = name;
    document.documentElement.dataset.theme = name;
    Plotly.relayout(gd, themeUpdate(name));
  }

  // Plotly's nested-key syntax only works through relayout, so the first theme is applied the same way.
  var config = { responsive: true, displaylogo: false, showSendToCloud: false, showEditInChartStudio: false,
                 modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"] };
  document.documentElement.dataset.theme = theme;
  Plotly.newPlot(gd, spec.data, spec.layout, config).then(function () {
    return Plotly.relayout(gd, themeUpdate(theme));
  }).then(function () {
    gd.dataset.ready = "true";
  });

  // The page's palette.js posts the scheme when the reader toggles it (no observer on the parent: it would keep
  // every embed ever shown alive across Material's instant navigation).
  window.addEventListener("message", function (event) {
    if (event.data && event.data.type === "md-color-scheme") setTheme(event.data.scheme === "slate" ? "dark" : "light");
  });

  if (!spec.animate) return;

  var animated = spec.animate.traces;
  var full = {};
  animated.forEach(function (i) { full[i] = { x: decode(spec.data[i].x), y: decode(spec.data[i].y) }; });
  var sliderIndex = (spec.layout.sliders || []).findIndex(function (s) { return s.name === spec.animate.slider; });
  var marks = spec.layout.sliders[sliderIndex].steps.map(function (s) { return +s.value; });
  var last = marks[marks.length - 1];
  var current = last;
  var stride = Math.max(1, Math.round(last / 120)); // playback visits every stride-th step, ~120 frames
  var timer = null;

  function count(trace, step) {
    // Runs are stored one point per step, except series plotted against step numbers (x holds the steps).
    var f = full[trace];
    if (spec.data[trace].xaxis && spec.data[trace].xaxis !== "x") {
      var n = 0;
      while (n < f.x.length && f.x[n] <= step) n++;
      return n;
    }
    return Math.min(step + 1, f.x.length);
  }

  function show(step) {
    current = step;
    var xs = [], ys = [];
    animated.forEach(function (i) {
      var n = count(i, step);
      xs.push(full[i].x.subarray(0, n));
      ys.push(full[i].y.subarray(0, n));
    });
    gd.dataset.step = String(step);
    return Plotly.restyle(gd, { x: xs, y: ys }, animated);
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    gd.dataset.playing = "false";
  }

  function play() {
    stop();
    var step = current >= last ? -stride : current;
    gd.dataset.playing = "true";
    timer = setInterval(function () {
      if (step >= last) return stop();
      step = Math.min(step + stride, last);
      show(step);
      var mark = 0;
      while (mark + 1 < marks.length && marks[mark + 1] <= step) mark++;
      var update = {};
      update["sliders[" + sliderIndex + "].active"] = mark;
      Plotly.relayout(gd, update);
    }, 40);
  }

  gd.on("plotly_sliderchange", function (event) {
    if (event.slider.name === "lr") lrActive = event.slider.active;
    if (event.slider.name !== spec.animate.slider || event.interaction === false) return;
    stop();
    show(+event.step.value);
  });
  gd.on("plotly_buttonclicked", function (event) {
    if (event.button.name === "play") play();
    if (event.button.name === "pause") stop();
  });

  // Keyboard: left/right move through the steps, space plays or pauses, up/down change the learning rate.
  var lrIndex = (spec.layout.sliders || []).findIndex(function (s) { return s.name === "lr"; });
  var lrActive = lrIndex >= 0 ? spec.layout.sliders[lrIndex].active : 0;

  function setSlider(index, value) {
    var update = {};
    update["sliders[" + index + "].active"] = value;
    return Plotly.relayout(gd, update);
  }

  gd.addEventListener("keydown", function (event) {
    var mark = 0;
    while (mark + 1 < marks.length && marks[mark + 1] <= current) mark++;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      stop();
      var next = Math.max(0, Math.min(marks.length - 1, mark + (event.key === "ArrowRight" ? 1 : -1)));
      show(marks[next]);
      setSlider(sliderIndex, next);
    } else if (event.key === " ") {
      if (timer === null) play(); else stop();
    } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && lrIndex >= 0) {
      var steps = spec.layout.sliders[lrIndex].steps;
      lrActive = Math.max(0, Math.min(steps.length - 1, lrActive + (event.key === "ArrowUp" ? 1 : -1)));
      var args = steps[lrActive].args;
      Plotly.update(gd, args[0], args[1]).then(function () { return setSlider(lrIndex, lrActive); });
    } else {
      return;
    }
    event.preventDefault();
  });
})();

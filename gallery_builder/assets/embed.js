// Draws one gallery figure from the JSON beside it, follows the parent page's light/dark palette and plays
// step animations by slicing the full arrays (so the trail keeps every step). Shared by every embed.
// The figure's JSON and its download's come packed (embeds.packed, half the bytes): deflated, with each typed
// array's bytes after the JSON, byte-shuffled. They are restored first (the browser's DecompressionStream), then drawn.
(function (embed) {
  "use strict";
  var WIDTHS = { f4: 4, f8: 8, i2: 2, u1: 1 };
  function unpack(id) {
    var element = document.getElementById(id);
    if (!element) return Promise.resolve(null);
    var raw = atob(element.textContent), packed = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) packed[i] = raw.charCodeAt(i);
    var inflated = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(inflated).arrayBuffer().then(function (buffer) {
      var all = new Uint8Array(buffer), nul = all.indexOf(0);
      return JSON.stringify(JSON.parse(new TextDecoder().decode(all.subarray(0, nul)), function (key, value) {
        if (!value || !Array.isArray(value.bin)) return value;
        var at = nul + 1 + value.bin[0], n = value.bin[1], width = WIDTHS[value.dtype], count = n / width;
        var bytes = new Uint8Array(n), text = "";
        for (var k = 0; k < count; k++) {
          for (var j = 0; j < width; j++) bytes[k * width + j] = all[at + j * count + k];
        }
        for (var c = 0; c < n; c += 8192) text += String.fromCharCode.apply(null, bytes.subarray(c, c + 8192));
        var restored = {};
        Object.keys(value).forEach(function (name) {
          restored[name === "bin" ? "bdata" : name] = name === "bin" ? btoa(text) : value[name];
        });
        return restored;
      }));
    });
  }
  var shown = document.getElementById("figure");
  if (typeof DecompressionStream !== "function") {
    shown.textContent = "This figure needs a newer browser (one with DecompressionStream).";
    return;
  }
  Promise.all([unpack("figure-data"), unpack("figure-download")]).then(function (texts) {
    embed(texts[0], texts[1]);
  }, function () {
    shown.textContent = "This figure's data could not be read.";
  });
})(function (figureText, downloadText) {
  "use strict";
  var spec = JSON.parse(figureText);
  // Arrays every map of a function draws come once per function, from landscape--<function>.js, which the embed
  // loads before this script (embeds.landscape): {"shared": name} stands for them.
  spec.data.forEach(function (trace) {
    Object.keys(trace).forEach(function (key) {
      if (trace[key] && typeof trace[key].shared === "string") trace[key] = window.OG_LANDSCAPE[trace[key].shared];
    });
  });
  var gd = document.getElementById("figure");
  var THEMES = {
    light: { paper: "#ffffff", font: "#1f2328", grid: "#e3e3e3", line: "#9a9a9a", panel: "#f4f4f4" },
    dark: { paper: "#1e2129", font: "#e2e4e9", grid: "#3a3f4b", line: "#6b7280", panel: "#2b2f3a" },
  };
  var TYPES = { f4: Float32Array, f8: Float64Array, i2: Int16Array, u1: Uint8Array };

  // A series over consecutive steps is stored as x0 and dx, not as an array of step numbers.
  function steps(x0, dx, n) {
    var out = new Float64Array(n);
    for (var k = 0; k < n; k++) out[k] = x0 + k * dx;
    return out;
  }

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

  // Narrow embeds (a phone) stack what sits side by side on wide ones, as the figure's "narrow" entry lists it:
  // blocks from top to bottom (plot panels, a 3-D scene, the legend, a colour bar, a note, a slider), whose format
  // gallery_builder/narrow.py defines and checks. The embed then needs a height of its own, which it tells the page
  // (palette.js sizes the iframe). Three reads of plotly's private fields (_fullLayout) below have no public
  // equivalent: docs/design/phone-layout.md says why.
  var NARROW = 560;
  var MODEBAR = 42; // room for the modebar above the title (Plotly sets the title about 12 px above this)
  var MARGIN = { l: 72, r: 14 };
  var PLAY_BUTTONS = 96; // ▶ and ❚❚ side by side, and a gap before the slider they sit beside
  var measure = document.createElement("canvas").getContext("2d");

  var measuredAt = null, widths = {};
  function textWidth(text, size) {
    var key = size + "|" + text;
    if (!(key in widths)) {
      if (measuredAt !== size) measure.font = size + 'px "Open Sans", verdana, arial, sans-serif'; // slow to parse
      measuredAt = size;
      widths[key] = measure.measureText(text).width;
    }
    return widths[key];
  }

  function wrap(text, size, width) {
    var lines = [], line = "";
    String(text).split(/<br>| /).forEach(function (word) {
      var next = line ? line + " " + word : word;
      if (line && textWidth(next, size) > width) {
        lines.push(line);
        line = word;
      } else {
        line = next;
      }
    });
    lines.push(line);
    return lines;
  }

  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  // The figure's own layout with the reader's slider positions and the title that goes with them, so that
  // switching between the wide and the narrow layout (a phone turned) keeps what the reader chose.
  function base() {
    var layout = copy(spec.layout);
    ((gd.layout && gd.layout.sliders) || []).forEach(function (drawn, i) {
      var slider = layout.sliders[i];
      slider.active = drawn.active;
      var args = slider.steps[drawn.active].args;
      if (args && args[1] && args[1]["title.text"]) layout.title.text = args[1]["title.text"];
    });
    return layout;
  }

  // The height of a horizontal legend laid out as plotly.js 4.1.1 does it: an entry is its text plus 40 px (symbol
  // and gaps) wide and 19 px tall at font size 11; a group (a legendgroup, or an entry without one) stacks its
  // entries; groups fill rows left to right, 5 px apart, up to the plot area's width; 10 px of padding below.
  // Estimated before the first draw, so that a narrow embed is drawn once (measured afterwards all the same).
  function narrowLegendHeight(maxWidth) {
    var size = (spec.layout.legend && spec.layout.legend.font && spec.layout.legend.font.size) || 12;
    var entry = Math.max(16, size * 1.3) + 3, order = [], groups = {};
    (gd.data || spec.data).forEach(function (trace, i) {
      if (trace.visible === false || trace.showlegend === false || !shownInLegend(trace)) return;
      var key = trace.legendgroup || "#" + i;
      if (!groups[key]) { groups[key] = { width: 0, height: 0 }; order.push(groups[key]); }
      groups[key].width = Math.max(groups[key].width, textWidth(trace.name, size) + 40);
      groups[key].height += entry;
    });
    var x = 0, rows = 0, row = 0;
    order.forEach(function (group) {
      if (x > 0 && x + group.width + 5 > maxWidth) { rows += row; x = 0; row = 0; }
      row = Math.max(row, group.height);
      x += group.width + 5;
    });
    return Math.ceil(rows + row + 10);
  }

  function shownInLegend(trace) {
    return trace.type !== "contour" && trace.type !== "heatmap" && trace.type !== "surface";
  }

  // The room that labels turned upright take below their axis: the longest category name (no automargin makes it).
  function labelsDepth(name) {
    var axis = spec.layout[name] || {}, size = (axis.tickfont && axis.tickfont.size) || 12, longest = 0;
    spec.data.forEach(function (trace) {
      if ((trace.xaxis || "x") !== name.replace("axis", "") || !Array.isArray(trace.x)) return;
      trace.x.forEach(function (label) { if (typeof label === "string") longest = Math.max(longest, textWidth(label, size)); });
    });
    return Math.ceil(longest) + 12;
  }

  function narrowLayout(width, measured) {
    var layout = base(), narrow = spec.narrow;
    var plotWidth = width - MARGIN.l - MARGIN.r;
    var titleSize = 13, lineHeight = 17;
    // Every title the lr slider can show is wrapped, and the tallest one sets the room kept for the title.
    var lines = 1;
    function wrapTitle(text) {
      var wrapped = wrap(text, titleSize, width - 16);
      lines = Math.max(lines, wrapped.length);
      return wrapped.join("<br>");
    }
    layout.title.text = wrapTitle(layout.title.text);
    (layout.sliders || []).forEach(function (slider) {
      slider.steps.forEach(function (step) {
        if (step.args && step.args[1] && step.args[1]["title.text"]) {
          step.args[1]["title.text"] = wrapTitle(step.args[1]["title.text"]);
        }
      });
    });
    var top = MODEBAR + lines * lineHeight + 12;
    var y = top, placed = [], bars = {}, stretched = false;
    narrow.blocks.forEach(function (block) {
      var height = block.height === "square" ? Math.min(plotWidth, 480) : block.height;
      if (block.height === "square" && !stretched && measured.spare) {
        height += measured.spare;
        stretched = true;
      }
      if (block.legend) height = measured.legend;
      if (block.annotation !== undefined) {
        var note = layout.annotations[block.annotation];
        var size = (note.font && note.font.size) || 12;
        var noteLines = wrap(note.text, size, width - 16);
        note.text = noteLines.join("<br>");
        height = noteLines.length * (size + 4) + 4;
      }
      placed.push({ block: block, top: y, height: height });
      y += height + Math.max(block.below || 0, block.tickangle !== undefined ? labelsDepth(block.axes[0]) : 0) + 8;
    });
    var total = Math.ceil(y);
    function paper(px) { return 1 - px / total; } // margins t and b are 0: paper spans the whole height
    layout.margin = { l: MARGIN.l, r: MARGIN.r, t: 0, b: 0, pad: 0 };
    layout.title.x = 8 / width;
    layout.title.xanchor = "left";
    layout.title.y = 1 - MODEBAR / total;
    layout.title.yanchor = "top";
    layout.title.yref = "container";
    layout.title.font = Object.assign({}, layout.title.font, { size: titleSize });
    var left = -MARGIN.l / plotWidth; // the container's left edge, in paper units
    placed.forEach(function (p) {
      var block = p.block, low = paper(p.top + p.height), high = paper(p.top);
      (block.axes || []).forEach(function (name) {
        var axis = layout[name] = layout[name] || {};
        var part = (block.parts || {})[name] || [0, 1];
        if (name[0] === "x") {
          axis.domain = [0, 1];
        } else {
          axis.domain = [low + part[0] * (high - low), low + part[1] * (high - low)];
        }
        if (block.nticks && name[0] === "y") {
          axis.nticks = block.nticks;
          axis.tickfont = Object.assign({}, axis.tickfont, { size: 10 });
        }
        if (block.tickangle !== undefined && name[0] === "x") axis.tickangle = block.tickangle;
      });
      if (block.scene) layout[block.scene].domain = { x: [left, 1 + MARGIN.r / plotWidth], y: [low, high] };
      if (block.legend) {
        // Plotly caps a horizontal legend at half the figure's height and scrolls the rest: the block is as tall
        // as the legend, so the cap is the block's height.
        // At x = 0 the legend may fill the plot area's width (left of it, only half the figure's).
        Object.assign(layout.legend = layout.legend || {}, { orientation: "h", x: 0, y: high,
          xanchor: "left", yanchor: "top", tracegroupgap: 0, maxheight: p.height + 2 });
      }
      if (block.colorbar !== undefined) {
        bars[block.colorbar] = Object.assign(copy(wideBars[block.colorbar]), { y: high, yanchor: "top", yref: "paper",
          x: left + 8 / plotWidth, xanchor: "left" }, block.bar);
      }
      if (block.annotation !== undefined) {
        Object.assign(layout.annotations[block.annotation], { x: left + 8 / plotWidth, xanchor: "left", y: high,
          yanchor: "top", xref: "paper", yref: "paper", yshift: 0 });
      }
      if (block.slider !== undefined) {
        var slider = layout.sliders[block.slider];
        var start = block.buttons !== undefined ? PLAY_BUTTONS : 8;
        Object.assign(slider, { x: left + start / plotWidth, len: (plotWidth + MARGIN.l - start) / plotWidth, y: high,
          yanchor: "top", pad: { t: 0, b: 0, l: 0, r: 0 } });
        if (block.buttons !== undefined) {
          Object.assign(layout.updatemenus[block.buttons], { x: left + 4 / plotWidth, xanchor: "left",
            y: paper(p.top + 14), yanchor: "top", pad: { t: 0, r: 0 } });
        }
      }
    });
    return { layout: layout, height: total, bars: bars };
  }

  // Sets "a.b" and "a[0].b" keys (relayout's syntax) inside a layout object, for Plotly.react.
  function assign(layout, update) {
    Object.keys(update).forEach(function (key) {
      var parts = key.replace(/\[(\d+)\]/g, ".$1").split("."), target = layout;
      parts.slice(0, -1).forEach(function (part) { target = target[part] = target[part] || {}; });
      target[parts[parts.length - 1]] = update[key];
    });
    return layout;
  }

  function tellHeight(height) {
    if (window.parent !== window) window.parent.postMessage({ type: "og-embed-height", height: height }, "*");
  }

  var mode = null; // "wide", or the width of the narrow layout drawn
  var wideBars = spec.data.map(function (trace) { return trace.colorbar && copy(trace.colorbar); });
  function draw(layout, height, bars) {
    var data = gd.data || spec.data;
    wideBars.forEach(function (bar, i) { if (bar) data[i].colorbar = (bars && bars[i]) || copy(bar); });
    gd.style.height = height ? height + "px" : "100%";
    // Alone in a window (a figure opened by itself) a stack taller than the screen scrolls: the page's own style
    // clips html and body to the window, for the frame inside a page.
    var scrolls = Boolean(height) && window.parent === window;
    document.documentElement.style.overflowY = scrolls ? "auto" : "";
    document.body.style.overflowY = scrolls ? "visible" : "";
    document.body.style.height = scrolls ? "auto" : "";
    tellHeight(height);
    layout.height = height || undefined; // narrow: the stack's height; wide: the frame's
    return Plotly.react(gd, data, assign(layout, themeUpdate(theme)), config).then(function () {
      // Plotly fits a layout without a height to the frame on the first draw only: a wide layout drawn after a
      // narrow one (a phone turned) is fitted again, which costs a second draw.
      var drawn = gd._fullLayout; // the size drawn at: no public read
      if (!height && (Math.abs(drawn.width - gd.clientWidth) > 1 || Math.abs(drawn.height - gd.clientHeight) > 1)) {
        return Plotly.Plots.resize(gd);
      }
    });
  }

  // A first guess of the height a long legend needs, so that the frame grows before the first draw rather than
  // after it (a second draw costs as much as the first); null when the frame's own height holds it. Measured on
  // plotly.js 4.1.1 at font size 11: 19.3 px per entry plus 10, and the legend gets 51 px less than the plot area.
  var ENTRY = 19.5, AROUND = 61;
  function wideLegendHeight() {
    var margin = spec.layout.margin || {}, entries = spec.data.filter(function (trace) {
      return trace.showlegend !== false && shownInLegend(trace);
    }).length;
    var needed = Math.ceil(entries * ENTRY + AROUND + (margin.t || 0) + (margin.b || 0));
    return spec.layout.legend && entries > 1 && needed > window.innerHeight ? needed : null;
  }

  // A wide figure's own layout.height is the least it needs (a row per optimizer): the frame grows to it.
  function wideHeight() {
    var needed = Math.max(wideLegendHeight() || 0, spec.layout.height || 0);
    return needed > window.innerHeight ? needed : null;
  }

  function fit() {
    var width = gd.clientWidth || window.innerWidth;
    var narrow = Boolean(spec.narrow) && width < NARROW;
    var wanted = narrow ? width : "wide";
    if (wanted === mode) return Promise.resolve();
    mode = wanted;
    if (!narrow) {
      return draw(base(), wideHeight()).then(function () {
        // A legend taller than the frame (every optimizer of a function) would scroll and cut its last entries:
        // the frame grows until it holds them all.
        var tries = 0;
        function grow() {
          var legend = gd._fullLayout.legend; // the height it needs and got: no public read
          if (!legend || !(legend._height > legend._effHeight + 1) || tries++ > 3) return;
          return draw(base(), Math.ceil(gd._fullLayout.height + legend._height - legend._effHeight + 4)).then(grow);
        }
        return grow();
      }).then(fitLabels);
    }
    var hasLegend = spec.narrow.blocks.some(function (b) { return b.legend; });
    var measured = { legend: hasLegend ? narrowLegendHeight(width - MARGIN.l - MARGIN.r) : 0 };
    function stack() {
      measured.spare = 0;
      var built = narrowLayout(width, measured);
      if (window.parent !== window || built.height >= window.innerHeight) return built;
      measured.spare = window.innerHeight - built.height; // alone in a taller window: the main panel takes the rest
      return narrowLayout(width, measured);
    }
    var built = stack();
    return draw(built.layout, built.height, built.bars).then(function () {
      var legend = gd._fullLayout.legend;
      if (!hasLegend || !legend || Math.ceil(legend._height) === measured.legend) return;
      // The estimate missed (text drawn wider than the canvas measured it): lay out again around the drawn legend.
      measured.legend = Math.ceil(legend._height);
      var again = stack();
      return draw(again.layout, again.height, again.bars);
    }).then(fitLabels);
  }

  // Labels that would touch their neighbours are hidden: slider and axis ticks (the slider's current value stays
  // written above it; an axis keeps its first and last labels), and heatmap cell labels (smaller first, then none)
  // when the cells are narrower than their text.
  function overlap(a, b) {
    return a.left < b.right + 3 && b.left < a.right + 3 && a.top < b.bottom + 1 && b.top < a.bottom + 1;
  }

  function thin(labels) {
    labels.forEach(function (label) { label.style.display = ""; });
    var boxes = labels.map(function (label) { return label.getBoundingClientRect(); });
    var kept = [];
    boxes.forEach(function (box, i) {
      var last = boxes[boxes.length - 1];
      if (kept.some(function (k) { return overlap(box, boxes[k]); }) ||
          (i < boxes.length - 1 && overlap(box, last))) {
        labels[i].style.display = "none";
      } else {
        kept.push(i);
      }
    });
  }

  function fitLabels() {
    gd.querySelectorAll(".slider-labels").forEach(function (group) {
      thin(Array.prototype.slice.call(group.querySelectorAll(".slider-label-group")));
    });
    var axes = {};
    gd.querySelectorAll("g[class$='tick'] > text").forEach(function (text) {
      var name = text.parentNode.getAttribute("class");
      (axes[name] = axes[name] || []).push(text.parentNode);
    });
    Object.keys(axes).forEach(function (name) {
      var ticks = axes[name];
      var vertical = name[0] === "y";
      ticks.forEach(function (tick) { tick.style.display = ""; });
      ticks.sort(function (a, b) {
        var ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
        return vertical ? rb.top - ra.top : ra.left - rb.left;
      });
      thin(ticks);
    });
    var changes = null;
    spec.data.forEach(function (trace, i) {
      if (trace.type !== "heatmap" || !trace.texttemplate || !Array.isArray(trace.x)) return;
      var size = gd._fullLayout._size; // the plot area in pixels: no public read
      var cell = Math.min(size.w / trace.x.length, size.h / trace.y.length);
      var longest = 0;
      trace.text.forEach(function (row) { row.forEach(function (t) { longest = Math.max(longest, textWidth(t, 9)); }); });
      var fitted = longest + 4 <= cell ? 9 : longest * 7 / 9 + 4 <= cell && cell >= 11 ? 7 : 0;
      var current = gd.data[i].texttemplate ? gd.data[i].textfont.size : 0;
      if (fitted === current) return;
      changes = changes || { indices: [], template: [], size: [] };
      changes.indices.push(i);
      changes.template.push(fitted ? trace.texttemplate : "");
      changes.size.push(fitted || 9);
    });
    if (changes) {
      return Plotly.restyle(gd, { texttemplate: changes.template, "textfont.size": changes.size }, changes.indices);
    }
  }

  // The figure's data download (downloads.download): written here, from the numbers this page holds, so that the
  // site carries them once. A float32 column is written with the fewest digits that give back the same float32.
  var carried = downloadText !== null;

  function shortest32(v) {
    for (var p = 1; p < 9; p++) {
      var s = +v.toPrecision(p);
      if (Math.fround(s) === v) return s;
    }
    return v;
  }

  function column(col, count, figure) {
    if (Array.isArray(col)) return col;
    if (col.from !== undefined) return Array.from({ length: count }, function (_, k) { return col.from + k; });
    if (col.names) return col.codes.map(function (k) { return col.names[k]; });
    if (col.tile || col.repeat) {
      var axis = column(col.tile || col.repeat, count / col.times, figure), times = col.times;
      return Array.from({ length: count }, function (_, k) {
        return axis[col.tile ? k % axis.length : Math.floor(k / times)];
      });
    }
    var source = col.ref ? figure.data[col.ref[0]][col.ref[1]] : col;
    var values = Array.from(decode(source));
    return source.dtype === "f4" ? values.map(shortest32) : values;
  }

  function expand(node, figure) {
    if (Array.isArray(node)) return node.map(function (v) { return expand(v, figure); });
    if (!node || typeof node !== "object") return node;
    if (node.og !== undefined) {
      var cols = node.columns.map(function (c) { return column(c, node.og, figure); });
      if (node.flat) return cols[0];
      return Array.from({ length: node.og }, function (_, k) { return cols.map(function (c) { return c[k]; }); });
    }
    var out = {};
    Object.keys(node).forEach(function (key) { out[key] = expand(node[key], figure); });
    return out;
  }

  function saveData() {
    var figure = JSON.parse(figureText); // as written, not as drawn
    var text = JSON.stringify(expand(JSON.parse(downloadText), figure)) + "\n"; // NaN becomes null
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = location.pathname.split("/").pop().replace(/\.html$/, "") + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 0);
  }

  // Plotly's nested-key syntax only works through relayout, so the first theme is applied the same way.
  // showTips: false, so that plotly.js's "double-click on legend to isolate" note does not cover the legend.
  var config = { responsive: true, displaylogo: false, showSendToCloud: false, showEditInChartStudio: false,
                 showTips: false,
                 modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"] };
  if (carried) {
    // In place of autoscale (reset axes does as much here): the toolbar keeps its width, clear of the title.
    config.modeBarButtonsToRemove = config.modeBarButtonsToRemove.concat(["autoScale2d"]);
    config.modeBarButtonsToAdd = [{ name: "Download the data as JSON", click: saveData,
      icon: { width: 24, height: 24, path: "M11 3h2v9l3.5-3.5 1.4 1.4-5.9 5.9-5.9-5.9 1.4-1.4L11 12zM5 18h14v2H5z" } }];
    // A page's "as JSON" link opens the figure alone at #download: the data is saved at once.
    if (location.hash === "#download" && window.parent === window) saveData();
  }
  document.documentElement.dataset.theme = theme;
  fit().then(function () {
    performance.mark("og-ready"); // the figure is drawn: a User Timing mark, for DevTools and scripts/bench_pages.py
    gd.dataset.ready = "true";
  });
  window.addEventListener("resize", function () { fit(); });
  var playing = false; // labels are fitted when playback stops, not on every frame
  gd.on("plotly_afterplot", function () { if (!playing) fitLabels(); });

  // A double click on a legend entry shows that optimizer alone, or everyone again when it is already alone. Only
  // optimizers' traces (those with a legendgroup) change: the landscape, the start and the minima stay, which
  // plotly.js's own isolation hides too.
  gd.on("plotly_legenddoubleclick", function (event) {
    var group = gd.data[event.curveNumber].legendgroup;
    if (!group) return false;
    var grouped = gd.data.map(function (trace, i) { return trace.legendgroup && trace.visible !== false ? i : -1; })
      .filter(function (i) { return i >= 0; });
    var alone = grouped.every(function (i) {
      return (gd.data[i].legendgroup === group) === (gd.data[i].visible !== "legendonly");
    });
    Plotly.restyle(gd, { visible: grouped.map(function (i) {
      return alone || gd.data[i].legendgroup === group ? true : "legendonly";
    }) }, grouped);
    return false;
  });

  // Touch: plotly.js moves a slider on a tap of its rail but not on a drag of its handle (plotly.js issue 5855: it
  // reads a touch's position as a mouse's, which a touch event does not have). A touch on a slider is replayed as
  // the mouse events plotly.js follows, at the touch's position.
  function asMouse(type, touch, target) {
    target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, view: window, button: 0,
      clientX: touch.clientX, clientY: touch.clientY, screenX: touch.screenX, screenY: touch.screenY }));
  }
  var dragging = false;
  gd.addEventListener("touchstart", function (event) {
    if (event.touches.length !== 1 || !event.target.closest || !event.target.closest(".slider-group")) return;
    event.stopPropagation(); // plotly.js's own touch handler would read no position
    event.preventDefault(); // no scrolling, and no emulated mouse events besides these
    dragging = true;
    asMouse("mousedown", event.touches[0], event.target);
  }, { capture: true, passive: false });
  gd.addEventListener("touchmove", function (event) {
    if (!dragging) return;
    event.stopPropagation();
    event.preventDefault();
    asMouse("mousemove", event.touches[0], gd);
  }, { capture: true, passive: false });
  ["touchend", "touchcancel"].forEach(function (type) {
    gd.addEventListener(type, function (event) {
      if (!dragging) return;
      dragging = false;
      event.stopPropagation();
      asMouse("mouseup", event.changedTouches[0], gd);
    }, { capture: true });
  });

  // The page's palette.js posts the scheme when the reader toggles it (no observer on the parent: it would keep
  // every embed ever shown alive across Material's instant navigation).
  window.addEventListener("message", function (event) {
    if (event.data && event.data.type === "md-color-scheme") setTheme(event.data.scheme === "slate" ? "dark" : "light");
  });

  // Into the playground (figures.playground): a click or tap on a basin map's cell opens it from that start, the
  // link in a pair figure's corner at the learning rate its slider shows. The URL is relative (the embed names
  // where the playground is) and opens in the top window, not in the frame.
  var into = spec.playground, playgroundUrl = gd.dataset.playground;
  function playgroundHref(lr, x, y) {
    var q = { f: into.f, o: into.o, lr: lr, h2: into.h2, x: x, y: y, n: into.n };
    return playgroundUrl + "?" + Object.keys(q).filter(function (k) { return q[k] !== undefined; })
      .map(function (k) { return k + "=" + encodeURIComponent(q[k]); }).join("&");
  }
  if (into && playgroundUrl && into.lrs) {
    var link = document.createElement("a");
    link.className = "og-playground-link";
    link.target = "_top";
    link.textContent = "playground ↗";  // short: the bottom-left corner is free on every layout, not much more
    link.title = "Run this optimizer on this function at the learning rate shown, live, from any start";
    link.style.cssText = "position:absolute;left:8px;bottom:4px;font:12px sans-serif;z-index:2";
    var lrSlider = spec.layout.sliders.findIndex(function (s) { return s.name === "lr"; });
    var aim = function () {
      var active = gd.layout.sliders ? gd.layout.sliders[lrSlider].active : spec.layout.sliders[lrSlider].active;
      link.href = playgroundHref(into.lrs[active], into.x, into.y);
    };
    aim();
    ["pointerdown", "focus", "mouseenter"].forEach(function (type) { link.addEventListener(type, aim); });
    gd.on("plotly_sliderchange", aim);
    document.body.appendChild(link);
  } else if (into && playgroundUrl) {
    gd.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point || point.curveNumber !== 0) return;  // the outcome map, not the contour or the markers over it
      window.open(playgroundHref(into.lr, point.x, point.y), "_top");
    });
  }

  if (!spec.animate) return;

  var animated = spec.animate.traces;
  var full = {};
  // A trace listed in animate.window shows only its k points of the current step (an arrow at the current
  // point): its full arrays are in animate.full, and the figure draws the last step's k points to begin with.
  var windows = spec.animate.window || {}, stored = spec.animate.full || {};
  animated.forEach(function (i) {
    var source = stored[i] || spec.data[i];
    var y = decode(source.y);
    full[i] = { x: source.x ? decode(source.x) : steps(source.x0 || 0, source.dx || 1, y.length), y: y };
  });
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
      var k = windows[i];
      if (k) {
        var at = Math.min(step, full[i].x.length / k - 1) * k;
        xs.push(full[i].x.subarray(at, at + k));
        ys.push(full[i].y.subarray(at, at + k));
        return;
      }
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
    if (playing) {
      playing = false;
      fitLabels();
    }
    gd.dataset.playing = "false";
  }

  function play() {
    stop();
    var step = current >= last ? -stride : current;
    playing = true;
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

  // On the whole frame, not only the figure's element: a click on the plot focuses the frame, not the element.
  document.addEventListener("keydown", function (event) {
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
      var steps = gd.layout.sliders[lrIndex].steps; // as drawn: narrow embeds wrap the titles
      lrActive = Math.max(0, Math.min(steps.length - 1, lrActive + (event.key === "ArrowUp" ? 1 : -1)));
      var args = steps[lrActive].args;
      Plotly.update(gd, args[0], args[1]).then(function () { return setSlider(lrIndex, lrActive); });
    } else {
      return;
    }
    event.preventDefault();
  });
});

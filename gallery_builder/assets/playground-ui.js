/* The playground page: pick a function and 1–4 optimizers, click or drag the start on the map, move each
   optimizer's learning rate; every change reruns the runs with PG.run (playground.js) and redraws. The URL's query
   holds the whole setting (see docs/design/playground.md for its format). Bad input is clamped or dropped with a
   visible message; no number shown is ever NaN. */
(function () {
  "use strict";
  const root = document.getElementById("og-playground");
  if (!root) return;
  // Material's instant navigation runs a page's scripts as they arrive, this one perhaps before the engine's
  let waited = 0;
  (function wait() {
    if (window.PG && window.Plotly && window.PG_CATALOGUE) playground();
    else if ((waited += 1) > 1500) root.textContent = "The playground's scripts did not load: reload the page.";
    else setTimeout(wait, 20);
  })();

  function playground() {
    const C = window.PG_CATALOGUE, PG = window.PG;
    const ASSETS = root.dataset.assets;
    const MAX_OPTIMIZERS = 4, GRID = 90, DEFAULTS = ["sgd", "momentum", "adam"];
    const log10 = Math.log10;

    function fmt(v, digits) {  // a number for people; never "NaN"
      if (!Number.isFinite(v)) return "—";
      const a = Math.abs(v);
      if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential((digits || 4) - 1).replace(/\.?0+e/, "e");
      return Number(v.toPrecision(digits || 4)).toString();
    }

    /* ---- the setting, from and to the URL ---- */
    function clampTo(value, low, high) { return Math.min(Math.max(value, low), high); }

    function number(text) {
      if (text === null || text === undefined || String(text).trim() === "") return NaN;
      const v = Number(text);
      return Number.isFinite(v) ? v : NaN;
    }

    function parseSchedule(spec, steps, notes) {
      const [name, rest] = String(spec || "constant").split(":");
      const wanted = C.schedules[name];
      if (!wanted) { notes.push(`unknown schedule "${name}": constant learning rate`); return { name: "constant", params: {} }; }
      const params = {};
      for (const item of (rest || "").split(",").filter(Boolean)) {
        const [key, text] = item.split("=");
        const v = number(text);
        const kind = wanted[key];
        if (!kind || !Number.isFinite(v) || v <= 0 || (kind === "count" && !Number.isInteger(v))) {
          notes.push(`schedule ${spec}: bad parameter "${item}": constant learning rate`);
          return { name: "constant", params: {} };
        }
        params[key] = v;
      }
      const missing = Object.keys(wanted).filter((k) => !(k in params));
      if (missing.length) { notes.push(`schedule ${spec}: missing ${missing.join(", ")}: constant learning rate`); return { name: "constant", params: {} }; }
      try { PG.multipliers(name, params, steps); } catch (e) { notes.push(e.message + ": constant learning rate"); return { name: "constant", params: {} }; }
      return { name, params };
    }

    function scheduleSpec(s) {
      const keys = Object.keys(C.schedules[s.name]);
      return keys.length ? s.name + ":" + keys.map((k) => `${k}=${s.params[k]}`).join(",") : s.name;
    }

    function parseOptimizers(q, notes) {
      const names = (q.get("o") || DEFAULTS.join(",")).split(",").filter(Boolean);
      const lrs = (q.get("lr") || "").split(","), seconds = (q.get("h2") || "").split(",");
      const out = [];
      names.forEach((name, i) => {
        const meta = C.optimizers[name];
        if (!meta) { notes.push(`unknown optimizer "${name}" left out`); return; }
        if (out.length === MAX_OPTIMIZERS) { notes.push(`at most ${MAX_OPTIMIZERS} optimizers: "${name}" left out`); return; }
        const [low, high] = meta.lr_range;
        let lr = number(lrs[i]);
        if (lrs[i] !== undefined && lrs[i] !== "" && !(lr > 0)) notes.push(`${name}: learning rate "${lrs[i]}" is not a number > 0: its default`);
        if (!(lr > 0)) lr = meta.defaults.lr;
        if (lr < low || lr > high) { notes.push(`${name}: learning rate ${fmt(lr)} is outside ${fmt(low)}–${fmt(high)}: clamped`); lr = clampTo(lr, low, high); }
        const o = { name, lr };
        if (meta.second) {
          const [key, lo, hi] = meta.second;
          let v = number(seconds[i]);
          if (seconds[i] !== undefined && seconds[i] !== "" && !Number.isFinite(v)) notes.push(`${name}: ${key} "${seconds[i]}" is not a number: its default`);
          if (!Number.isFinite(v)) v = meta.defaults[key];
          if (v < lo || v > hi) { notes.push(`${name}: ${key} ${fmt(v)} is outside ${lo}–${hi}: clamped`); v = clampTo(v, lo, hi); }
          o.second = v;
        }
        out.push(o);
      });
      if (!out.length) notes.push("no known optimizer: the default ones");
      return out;
    }

    function secondDefault(name) {
      const meta = C.optimizers[name];
      return meta.second ? meta.defaults[meta.second[0]] : undefined;
    }

    function parseStart(q, fn, notes) {
      const meta = C.functions[fn];
      let x = number(q.get("x")), y = number(q.get("y"));
      if ((q.has("x") || q.has("y")) && !(Number.isFinite(x) && Number.isFinite(y))) notes.push("start is not two numbers: the function's start");
      if (!(Number.isFinite(x) && Number.isFinite(y))) [x, y] = meta.start;
      const [[x0, x1], [y0, y1]] = meta.domain;
      if (x < x0 || x > x1 || y < y0 || y > y1) {
        notes.push(`start (${fmt(x)}, ${fmt(y)}) is outside the domain [${x0}, ${x1}] × [${y0}, ${y1}]: clamped`);
        x = clampTo(x, x0, x1); y = clampTo(y, y0, y1);
      }
      return [x, y];
    }

    function integer(q, key, low, high, fallback, label, notes) {
      if (!q.has(key)) return fallback;
      const v = number(q.get(key));
      if (!Number.isInteger(v)) { notes.push(`${label} "${q.get(key)}" is not a whole number: ${fallback}`); return fallback; }
      if (v < low || v > high) { notes.push(`${label} ${v} is outside ${low}–${high}: clamped`); return clampTo(v, low, high); }
      return v;
    }

    function parse(search) {
      const q = new URLSearchParams(search), notes = [];
      let fn = q.get("f") || "rosenbrock";
      if (!C.functions[fn]) { notes.push(`unknown function "${fn}": Rosenbrock`); fn = "rosenbrock"; }
      const meta = C.functions[fn];
      const horizon = meta.steps || C.default_steps;
      const steps = integer(q, "n", 1, C.noise.steps, horizon, "steps", notes);
      let opts = parseOptimizers(q, notes).filter((o) => {
        if (C.optimizers[o.name].needs_minimum && meta.minimum === null) { notes.push(`${o.name} needs f*, which ${meta.title} has not: left out`); return false; }
        return true;
      });
      if (!opts.length) opts = DEFAULTS.map((name) => ({ name, lr: C.optimizers[name].defaults.lr, second: secondDefault(name) }));
      let sigma = q.has("sigma") ? number(q.get("sigma")) : 0;
      if (!(sigma >= 0)) { notes.push(`noise σ "${q.get("sigma")}" is not a number ≥ 0: no noise`); sigma = 0; }
      const seed = integer(q, "seed", 0, C.noise.seeds - 1, 0, "seed", notes);
      const schedule = parseSchedule(q.get("s"), steps, notes);
      const step = integer(q, "k", 0, steps, steps, "shown step", notes);
      const selected = integer(q, "sel", 0, Math.max(opts.length - 1, 0), 0, "selected optimizer", notes);
      return { setting: { fn, start: parseStart(q, fn, notes), steps, opts, sigma, seed, schedule, step, selected }, notes };
    }

    function query(s) {
      const parts = [["f", s.fn], ["o", s.opts.map((o) => o.name).join(",")], ["lr", s.opts.map((o) => o.lr).join(",")]];
      if (s.opts.some((o) => o.second !== undefined)) parts.push(["h2", s.opts.map((o) => o.second === undefined ? "" : o.second).join(",")]);
      parts.push(["x", s.start[0]], ["y", s.start[1]], ["n", s.steps], ["k", s.step]);
      if (s.schedule.name !== "constant") parts.push(["s", scheduleSpec(s.schedule)]);
      if (s.sigma > 0) parts.push(["sigma", s.sigma], ["seed", s.seed]);
      if (s.selected) parts.push(["sel", s.selected]);
      return parts.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%3D/g, "=")}`).join("&");
    }

    /* ---- runs ---- */
    let noiseTable = null, noiseLoading = null;
    function loadNoise() {
      if (!noiseLoading) {
        noiseLoading = fetch(ASSETS + "playground-noise.bin").then((r) => {
          if (!r.ok) throw new Error(`noise table: HTTP ${r.status}`);
          return r.arrayBuffer();
        }).then((b) => { noiseTable = new Float64Array(b); });
      }
      return noiseLoading;
    }

    function hyperOf(o) {
      const meta = C.optimizers[o.name], hyper = { lr: o.lr };
      if (meta.second) hyper[meta.second[0]] = o.second;
      return hyper;
    }

    function runAll(s) {
      const per = 2 * C.noise.steps;
      const xi = s.sigma > 0 && noiseTable ? noiseTable.subarray(s.seed * per, (s.seed + 1) * per) : null;
      return s.opts.map((o, i) => PG.run({ fn: s.fn, opt: o.name, steps: s.steps, start: s.start, hyper: hyperOf(o),
        schedule: s.schedule, sigma: xi ? s.sigma : 0, xi, record_state: i === s.selected }));
    }

    function pythonCall(s, o) {
      const meta = C.optimizers[o.name], fnMeta = C.functions[s.fn];
      const args = [`"${o.name}"`, `"${s.fn}"`, `start=(${s.start[0]}, ${s.start[1]})`, `steps=${s.steps}`, `lr=${o.lr}`];
      if (meta.second) args.push(`${meta.second[0]}=${o.second}`);
      if (meta.needs_minimum) args.push(`f_min=${fnMeta.minimum}`);
      if (s.schedule.name !== "constant") args.push(`schedule="${scheduleSpec(s.schedule)}"`);
      if (s.sigma > 0) args.push(`noise=${s.sigma}`, `seed=${s.seed}`);
      return `trajectory(${args.join(", ")})`;
    }

    function describe(r, steps) {
      if (r.status === "diverged") return `diverged at step ${r.stopStep}`;
      if (r.status === "escaped") return `left the domain at step ${r.stopStep}`;
      if (r.status === "stalled") return "stalled at a stationary point that is not a global minimum";
      if (r.status === "moving") return `still moving after ${steps} steps`;
      return `converged (|f − f*| ≤ ${C.constants.tolerance} at step ${r.firstWithin})`;
    }

    /* ---- the page ---- */
    const CSS = `
  .og-pg{--og-gap:.5rem}.og-pg-controls{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;margin:.5rem 0}
  .og-pg label{display:inline-flex;align-items:center;gap:.3rem;flex-wrap:wrap}
  .og-pg select,.og-pg input[type=number],.og-pg input[type=text],.og-pg button{font:inherit;color:var(--md-default-fg-color);
   background:var(--md-default-bg-color);border:1px solid var(--md-default-fg-color--lighter);border-radius:.2rem;padding:.1rem .3rem}
  .og-pg input[type=number]{width:5.5em}.og-pg input[type=range]{width:min(14rem,60vw);touch-action:manipulation}
  .og-pg button{cursor:pointer;min-width:2.2rem;min-height:2rem}
  .og-pg-opt{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:center;padding:.3rem .4rem;margin:.2rem 0;border-left:4px solid var(--og-colour);background:var(--md-code-bg-color)}
  .og-pg-opt output{font-variant-numeric:tabular-nums;min-width:4.5em}
  .og-pg-message{color:var(--md-typeset-color);background:#fdd49e33;border-left:4px solid #fdae6b;padding:.2rem .5rem;margin:.4rem 0}
  .og-pg-message:empty{display:none}
  .og-pg-map{position:relative;width:100%;height:min(92vw,30rem)}.og-pg-layer{position:absolute;inset:0}.og-pg-paths{touch-action:none}.og-pg-panels{display:grid;grid-template-columns:1fr 1fr;gap:var(--og-gap)}
  .og-pg-panel{height:14rem}@media (max-width:560px){.og-pg-panels{grid-template-columns:1fr}}
  .og-pg-status li{margin:0}.og-pg-python code{white-space:pre-wrap;word-break:break-all}
  .og-pg-state table{font-size:.7rem}`;

    function el(tag, attrs, ...children) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) {
        if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else if (v !== undefined && v !== null) e.setAttribute(k, v);
      }
      for (const c of children) e.append(c);
      return e;
    }

    let state = null, runs = [], message = null;

    /* A change by the reader: a slider or the start rerun and redraw; anything else rebuilds the controls too. */
    function update(change, opts) {
      change(state.setting);
      state.notes = [];
      if (!(opts && opts.keepStep)) state.setting.step = state.setting.steps;
      state.setting.step = Math.min(state.setting.step, state.setting.steps);
      history.replaceState(history.state, "", location.pathname + "?" + query(state.setting) + location.hash);
      if (!(opts && opts.fast)) build();
      else if (!opts.later) render();
      else if (!pendingRender) pendingRender = requestAnimationFrame(() => { pendingRender = 0; render(); });
    }
    let pendingRender = 0;  // a slider's moves between two frames are drawn once

    function sliderRow(label, value, low, high, log, onInput) {
      const f = log ? log10 : (v) => v, inv = log ? (v) => Math.pow(10, v) : (v) => v;
      const out = el("output", {}, fmt(value));
      const input = el("input", { type: "range", min: f(low), max: f(high), step: (f(high) - f(low)) / 400, value: f(value),
        "aria-label": label });
      input.addEventListener("input", () => { const v = inv(Number(input.value)); out.textContent = fmt(v); onInput(Number(v.toPrecision(4))); });
      return el("label", {}, label, input, out);
    }

    function optimizerRow(o, i) {
      const s = state.setting, meta = C.optimizers[o.name];
      const select = el("select", { "aria-label": `optimizer ${i + 1}`, onchange: () => update((t) => {
        t.opts[i] = { name: select.value, lr: C.optimizers[select.value].defaults.lr, second: secondDefault(select.value) };
      }) });
      for (const [name, m] of Object.entries(C.optimizers)) {
        if (m.needs_minimum && C.functions[s.fn].minimum === null) continue;
        select.append(el("option", { value: name, selected: name === o.name ? "" : null }, m.title));
      }
      const row = el("div", { class: "og-pg-opt", style: `--og-colour:${meta.style.color}` }, select,
        sliderRow("lr", o.lr, meta.lr_range[0], meta.lr_range[1], true, (v) => update((t) => { t.opts[i].lr = v; }, { fast: true, later: true })));
      if (meta.second) {
        const [key, lo, hi] = meta.second;
        row.append(sliderRow(key, o.second, lo, hi, false, (v) => update((t) => { t.opts[i].second = v; }, { fast: true, later: true })));
      }
      row.append(el("label", {}, el("input", { type: "radio", name: "og-pg-sel", checked: i === s.selected ? "" : null,
        onchange: () => update((t) => { t.selected = i; }, { keepStep: true }) }), "show its state"));
      if (s.opts.length > 1) row.append(el("button", { type: "button", "aria-label": `remove ${meta.title}`,
        onclick: () => update((t) => { t.opts.splice(i, 1); t.selected = 0; }) }, "✕"));
      return row;
    }

    function controls() {
      const s = state.setting;
      const fnSelect = el("select", { "aria-label": "function", onchange: () => update((t) => {
        const meta = C.functions[fnSelect.value];
        t.fn = fnSelect.value; t.start = meta.start.slice(); t.steps = meta.steps || C.default_steps;
        t.opts = t.opts.filter((o) => !(C.optimizers[o.name].needs_minimum && meta.minimum === null));
        if (!t.opts.length) t.opts = [{ name: "sgd", lr: C.optimizers.sgd.defaults.lr }];
        t.selected = 0;
      }) });
      for (const [name, m] of Object.entries(C.functions)) fnSelect.append(el("option", { value: name, selected: name === s.fn ? "" : null }, m.title));
      const add = el("button", { type: "button", disabled: s.opts.length >= MAX_OPTIMIZERS ? "" : null, onclick: () => update((t) => {
        const next = Object.keys(C.optimizers).find((n) => !t.opts.some((o) => o.name === n) && !C.optimizers[n].needs_minimum) || "sgd";
        t.opts.push({ name: next, lr: C.optimizers[next].defaults.lr, second: secondDefault(next) });
      }) }, "+ optimizer");
      const steps = el("input", { type: "number", min: 1, max: C.noise.steps, step: 1, value: s.steps, "aria-label": "steps",
        onchange: () => { const q = new URLSearchParams(query(s)); q.set("n", steps.value); reparse(q.toString()); } });
      const schedule = el("input", { type: "text", value: scheduleSpec(s.schedule), list: "og-pg-schedules", "aria-label": "schedule",
        onchange: () => { const q = new URLSearchParams(query(s)); q.set("s", schedule.value); reparse(q.toString()); } });
      const list = el("datalist", { id: "og-pg-schedules" }, ...["constant", "cosine", "step_decay:step_size=100,gamma=0.5",
        "warmup_cosine:warmup=30", "wsd:warmup=30,decay=60"].map((v) => el("option", { value: v })));
      const sigma = el("input", { type: "number", min: 0, step: "any", value: s.sigma, "aria-label": "noise sigma",
        onchange: () => { const q = new URLSearchParams(query(s)); q.set("sigma", sigma.value); q.set("seed", s.seed); reparse(q.toString()); } });
      const startInputs = s.start.map((v, i) => el("input", { type: "number", step: "any", value: v,
        "aria-label": `start ${"xy"[i]}`, onchange: () => {
          const q = new URLSearchParams(query(s));
          q.set("x", startInputs[0].value); q.set("y", startInputs[1].value);
          reparse(q.toString());
        } }));
      parts.startInputs = startInputs;
      const seed = el("select", { "aria-label": "seed", onchange: () => update((t) => { t.seed = Number(seed.value); }) });
      for (let i = 0; i < C.noise.seeds; i++) seed.append(el("option", { value: i, selected: i === s.seed ? "" : null }, String(i)));
      return el("div", {}, el("div", { class: "og-pg-controls" }, el("label", {}, "function", fnSelect), add,
        el("label", {}, "start", ...startInputs), el("label", {}, "steps", steps), el("label", {}, "schedule", schedule, list),
        el("label", {}, "noise σ", sigma), el("label", {}, "seed", seed)), ...s.opts.map(optimizerRow));
    }

    function reparse(search) {
      const parsed = parse(search);
      state = parsed;
      history.replaceState(history.state, "", location.pathname + "?" + query(state.setting) + location.hash);
      build();
    }

    let parts = null, belowLayer = null;  // the contour's plot outlives a rebuild of the controls

    function build() {
      if (!document.getElementById("og-pg-css")) document.head.append(el("style", { id: "og-pg-css" }, CSS));
      const s = state.setting;
      const stepInput = el("input", { type: "range", min: 0, max: s.steps, step: 1, value: s.step, "aria-label": "step" });
      const stepOut = el("output", {}, String(s.step));
      stepInput.addEventListener("input", () => { state.setting.step = Number(stepInput.value); stepOut.textContent = stepInput.value; drawMap(); remember(); });
      const play = el("button", { type: "button", "aria-label": "play" }, "▶");
      play.addEventListener("click", () => animate(play));
      parts = { message: el("div", { class: "og-pg-message", role: "status" }), stepInput, stepOut,
                below: belowLayer || (belowLayer = el("div", { class: "og-pg-layer", "aria-hidden": "true" })),
                map: el("div", { class: "og-pg-layer og-pg-paths", role: "img",
                                 "aria-label": "map: click or tap to start there, drag to move the start" }), gap: el("div", { class: "og-pg-panel" }),
                length: el("div", { class: "og-pg-panel" }), status: el("ul", { class: "og-pg-status" }),
                carried: el("div", { class: "og-pg-panel" }),
                state: el("div", { class: "og-pg-state" }), python: el("div", { class: "og-pg-python" }),
                link: el("a", { href: "?" + query(s) }, "Link to this view") };
      root.replaceChildren(el("div", { class: "og-pg" }, parts.message, controls(),
        el("div", { class: "og-pg-controls" }, play, el("label", {}, "step", stepInput, stepOut)),
        el("div", { class: "og-pg-map" }, parts.below, parts.map), el("div", { class: "og-pg-panels" }, parts.gap, parts.length, parts.carried), parts.status, parts.state,
        parts.python, el("p", {}, parts.link)));
      listen(parts.map);
      parts.below.dataset.key = parts.below.dataset.key || "";
      render();
    }

    function remember() {
      history.replaceState(history.state, "", location.pathname + "?" + query(state.setting) + location.hash);
      parts.link.setAttribute("href", "?" + query(state.setting));
    }

    let playing = 0;
    function animate(button) {
      if (playing) { cancelAnimationFrame(playing); playing = 0; button.textContent = "▶"; return; }
      const s = state.setting, stride = Math.max(1, Math.round(s.steps / 150));
      if (s.step >= s.steps) s.step = 0;
      button.textContent = "❚❚";
      const tick = () => {
        s.step = Math.min(s.steps, s.step + stride);
        parts.stepInput.value = s.step; parts.stepOut.textContent = String(s.step);
        drawMap();
        if (s.step < s.steps) playing = requestAnimationFrame(tick);
        else { playing = 0; button.textContent = "▶"; remember(); }
      };
      playing = requestAnimationFrame(tick);
    }

    /* Click or tap anywhere on the map to start there; keep the pointer down to drag the start. */
    function listen(map) {
      let dragging = false, pending = 0;
      const at = (e) => {
        const layout = map._fullLayout;
        if (!layout || !layout.xaxis) return null;
        const box = map.getBoundingClientRect(), xa = layout.xaxis, ya = layout.yaxis;
        const px = e.clientX - box.left - xa._offset, py = e.clientY - box.top - ya._offset;
        if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
        return [Number(xa.p2d(px).toPrecision(6)), Number(ya.p2d(py).toPrecision(6))];
      };
      const move = (point) => update((t) => { t.start = point; }, { fast: true });
      map.addEventListener("pointerdown", (e) => {
        const point = at(e);
        if (!point) return;
        dragging = true;
        try { map.setPointerCapture(e.pointerId); } catch (error) { /* a pointer the browser no longer tracks */ }
        e.preventDefault();
        move(point);
      }, true);
      map.addEventListener("pointermove", (e) => {
        if (!dragging) return;
        const point = at(e);
        if (!point || pending) return;
        pending = requestAnimationFrame(() => { pending = 0; move(point); });
      }, true);
      const end = () => { dragging = false; };
      map.addEventListener("pointerup", end, true);
      map.addEventListener("pointercancel", end, true);
    }

    function render() {
      const s = state.setting, notes = state.notes.slice();
      if (s.sigma > 0 && !noiseTable) {
        parts.message.textContent = [...notes, "loading the noise table…"].join("; ");
        loadNoise().then(render, (e) => { state.notes.push(`no noise: ${e.message}`); state.setting.sigma = 0; render(); });
        return;
      }
      try {
        const t0 = performance.now();
        runs = runAll(s);
        window.ogPlayground.compute = performance.now() - t0;
      } catch (e) {
        runs = [];
        notes.push(e instanceof PG.PlaygroundError ? e.message : `the runs failed: ${e.message}`);
      }
      parts.message.textContent = notes.join("; ");
      window.ogPlayground.ready = true;
      parts.startInputs.forEach((input, i) => { input.value = s.start[i]; });
      parts.stepInput.max = s.steps; parts.stepInput.value = s.step; parts.stepOut.textContent = String(s.step);
      parts.link.setAttribute("href", "?" + query(s));
      parts.status.replaceChildren(...runs.map((r, i) => el("li", {}, `${C.optimizers[s.opts[i].name].title} (lr ${fmt(s.opts[i].lr)}): ${describe(r, s.steps)}; f = ${fmt(r.finalValue, 6)} at (${fmt(r.finalPoint[0], 6)}, ${fmt(r.finalPoint[1], 6)})`)));
      parts.python.replaceChildren(el("p", {}, "Reproduce in Python:"),
        el("pre", {}, el("code", {}, ["from gallery_builder import trajectory", ...s.opts.map((o) => pythonCall(s, o))].join("\n"))));
      draw();
    }

    /* ---- drawing ---- */
    let surface = null;  // the contour of the current function and colour scheme, computed once

    function colours() {
      const style = getComputedStyle(document.body);
      const dark = document.body.getAttribute("data-md-color-scheme") === "slate";
      return { dark, fg: style.getPropertyValue("--md-default-fg-color").trim() || (dark ? "#e2e4e9" : "#222"),
               grid: dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.1)" };
    }

    function contour(fn, dark) {
      if (surface && surface.fn === fn && surface.dark === dark) return surface.trace;
      const meta = C.functions[fn], code = C.code[fn], [[x0, x1], [y0, y1]] = meta.domain;
      const xs = [], ys = [], z = [];
      for (let i = 0; i < GRID; i++) { xs.push(x0 + (x1 - x0) * i / (GRID - 1)); ys.push(y0 + (y1 - y0) * i / (GRID - 1)); }
      let low = Infinity;
      for (const y of ys) { const row = xs.map((x) => code.v(x, y)[0]); row.forEach((v) => { if (v < low) low = v; }); z.push(row); }
      // log(1 + f − min) keeps the valleys visible on functions whose values span many decades
      const shown = z.map((row) => row.map((v) => Number.isFinite(v) ? Math.log10(1 + v - low) : null));
      const trace = { type: "contour", x: xs, y: ys, z: shown, ncontours: 24, showscale: false, hoverinfo: "skip",
        colorscale: dark ? [[0, "#1b2a4a"], [1, "#4a4f5e"]] : [[0, "#dbe6f6"], [1, "#ffffff"]],
        contours: { coloring: "fill" }, line: { width: 0.6, color: dark ? "rgba(255,255,255,0.25)" : "rgba(0,0,0,0.25)" } };
      surface = { fn, dark, trace };
      return trace;
    }

    function axis(c, title, extra) {
      return { title: { text: title }, color: c.fg, gridcolor: c.grid, zeroline: false, ...extra };
    }

    const BASE = { paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", margin: { l: 48, r: 8, t: 8, b: 40 },
                   dragmode: false, hovermode: false, showlegend: false };
    const STATIC = { displayModeBar: false, staticPlot: true, responsive: true };

    /* The map is two plots of the same size and axes: the contour below, drawn once per function, colour scheme and
       size (a filled contour takes Plotly hundreds of ms), and the paths above it, redrawn at every change. */
    function mapLayout(c) {
      const [[x0, x1], [y0, y1]] = C.functions[state.setting.fn].domain;
      return { ...BASE, font: { color: c.fg, size: 11 }, xaxis: axis(c, "x", { range: [x0, x1] }),
               yaxis: axis(c, "y", { range: [y0, y1] }) };
    }

    function drawBackground(c) {
      const key = [state.setting.fn, c.dark, parts.map.clientWidth, parts.map.clientHeight].join();
      if (parts.below.dataset.key === key) return;
      parts.below.dataset.key = key;
      Plotly.react(parts.below, [contour(state.setting.fn, c.dark)], mapLayout(c), STATIC);
    }

    function drawMap() {
      const s = state.setting, c = colours(), k = s.step, traces = [];
      drawBackground(c);
      runs.forEach((r, i) => {
        const o = s.opts[i], style = C.optimizers[o.name].style, n = Math.min(k, r.last);
        const path = r.points.subarray(0, 2 * n + 2), xs = new Array(n + 1), ys = new Array(n + 1);
        for (let j = 0; j <= n; j++) { xs[j] = path[2 * j]; ys[j] = path[2 * j + 1]; }
        traces.push({ type: "scatter", mode: "lines", x: xs, y: ys, line: { color: style.color, dash: style.dash, width: 2 } },
          { type: "scatter", mode: "markers", x: [xs[n]], y: [ys[n]], marker: { size: 10, symbol: style.symbol, color: style.color } });
      });
      traces.push({ type: "scatter", mode: "markers", x: [s.start[0]], y: [s.start[1]],
        marker: { size: 14, color: "rgba(0,0,0,0)", line: { width: 2.5, color: c.fg } } });
      const carried = carriedOnMap(c, k);
      Plotly.react(parts.map, traces.concat(carried.traces), { ...mapLayout(c), annotations: carried.annotations },
                   { displayModeBar: false, scrollZoom: false, responsive: true });
      const line = { shapes: [{ type: "line", xref: "x", yref: "paper", x0: k, x1: k, y0: 0, y1: 1,
                                line: { color: c.fg, width: 1, dash: "dot" } }] };
      [parts.gap, parts.length, parts.carried].forEach((panel) => { if (panel.layout) Plotly.relayout(panel, line); });
      drawState(carried.shown);
    }

    /* What the selected optimizer carries, on the map at step k: the arrows and paths of its views in
       carried.views (their names and words come with the catalogue), valued by its JS rule's drawn()
       from the JS engine's state. Returns the traces, the arrows (as annotations) and what was drawn. */
    function carriedOnMap(c, k) {
      const s = state.setting, r = runs[s.selected], out = { traces: [], annotations: [], shown: [] };
      if (!r || !r.states) return out;
      const name = s.opts[s.selected].name, meta = C.optimizers[name];
      const at = Math.min(k, r.states.length - 1), p = [r.points[2 * at], r.points[2 * at + 1]];
      const now = meta.carried.length ? PG.drawn(r, name, s.fn, at) : null;
      if (!now) return out;
      const colour = c.dark ? "#ffd166" : "#7a2e8e";  // apart from every optimizer's colour on either contour
      for (const view of meta.carried) {
        const v = now[view.name];
        if (!v || !Number.isFinite(v[0]) || !Number.isFinite(v[1])) continue;
        if (view.kind === "arrow") {
          const half = view.through ? 0.5 : 0, tail = [p[0] - half * v[0], p[1] - half * v[1]];
          out.annotations.push({ x: tail[0] + v[0], y: tail[1] + v[1], ax: tail[0], ay: tail[1], xref: "x", yref: "y",
            axref: "x", ayref: "y", text: "", showarrow: true, arrowhead: view.through ? 0 : 2, arrowwidth: 2.5,
            arrowcolor: colour });
        } else {  // a path of its own up to this step (from step 1: the state before any step may hold zeros)
          const xs = [], ys = [];
          for (let j = 1; j <= at; j++) {
            const q = PG.drawn(r, name, s.fn, j)[view.name];
            xs.push(q[0]); ys.push(q[1]);
          }
          const paths = out.traces.length / 2;  // each path its own dash and marker
          out.traces.push({ type: "scatter", mode: "lines", x: xs, y: ys,
                            line: { color: colour, width: 1.5, dash: ["dot", "dash"][paths % 2] } },
            { type: "scatter", mode: "markers", x: [v[0]], y: [v[1]],
              marker: { size: 8, symbol: ["x", "triangle-up"][paths % 2], color: colour } });
        }
        out.shown.push([view, v]);
      }
      return out;
    }

    /* |f − f*| (f on a function without a minimum) and the step length of every run over the whole horizon. */
    function drawPanels() {
      const s = state.setting, c = colours(), meta = C.functions[s.fn];
      const gaps = [], lengths = [];
      runs.forEach((r, i) => {
        const style = C.optimizers[s.opts[i].name].style, steps = [], g = [], l = [];
        for (let j = 0; j <= r.last; j++) {
          const f = r.values[j], gap = meta.minimum === null ? f : Math.abs(f - meta.minimum);
          steps.push(j);
          g.push(Number.isFinite(gap) && (meta.minimum === null || gap > 0) ? gap : null);
          l.push(j ? Math.hypot(r.points[2 * j] - r.points[2 * j - 2], r.points[2 * j + 1] - r.points[2 * j - 1]) || null : null);
        }
        const line = { color: style.color, dash: style.dash, width: 2 };
        gaps.push({ type: "scatter", mode: "lines", x: steps, y: g, line });
        lengths.push({ type: "scatter", mode: "lines", x: steps, y: l, line });
      });
      const base = { ...BASE, font: { color: c.fg, size: 11 } }, steps = axis(c, "step", { range: [0, s.steps] });
      Plotly.react(parts.gap, gaps, { ...base, xaxis: steps,
        yaxis: axis(c, meta.minimum === null ? "f" : "|f − f*|", { type: meta.minimum === null ? "linear" : "log" }) }, STATIC);
      Plotly.react(parts.length, lengths, { ...base, xaxis: steps, yaxis: axis(c, "step length", { type: "log" }) }, STATIC);
      drawCarriedPanel(c, base, steps);
    }

    /* The selected optimizer's state against the step, |value| per coordinate on a log axis (a sign cannot show
       there: the numbers below say it); step counters are left out. */
    function drawCarriedPanel(c, base, steps) {
      const s = state.setting, r = runs[s.selected], traces = [];
      if (r && r.states) {
        const colour = C.optimizers[s.opts[s.selected].name].style.color, fields = r.states[0];
        for (const key of Object.keys(fields)) {
          const series = r.states.map((st) => st[key]), scalar = typeof fields[key] === "number";
          const vector = Array.isArray(fields[key]) && fields[key].length === 2 && typeof fields[key][0] === "number";
          if (scalar && series.every((v, j) => v === j)) continue;
          (scalar ? [null] : vector ? [0, 1] : []).forEach((coordinate) => {
            const y = series.map((v) => { const a = Math.abs(coordinate === null ? v : v[coordinate]); return a > 0 && Number.isFinite(a) ? a : null; });
            traces.push({ type: "scatter", mode: "lines", name: key + (coordinate === null ? "" : " " + "xy"[coordinate]),
              x: series.map((_, j) => j), y, line: { color: colour, width: 1.5, dash: ["solid", "dot", "dash", "dashdot", "longdash"][traces.length % 5] } });
          });
        }
      }
      Plotly.react(parts.carried, traces, { ...base, showlegend: true, legend: { font: { size: 10 }, orientation: "h", y: -0.35 },
        margin: { ...BASE.margin, b: 70 }, xaxis: steps, yaxis: axis(c, "|what it carries|", { type: "log" }) }, STATIC);
    }

    function draw() {
      drawPanels();
      drawMap();
    }

    /* What the selected optimizer carries at the shown step: what the map draws, in words, and its state's numbers
       and per-coordinate vectors. */
    function drawState(shown) {
      const s = state.setting, r = runs[s.selected];
      if (!r || !r.states) { parts.state.replaceChildren(); return; }
      const at = Math.min(s.step, r.states.length - 1), carried = r.states[at], rows = [];
      const pair = (v) => `(${fmt(v[0], 5)}, ${fmt(v[1], 5)})`;
      for (const [key, v] of Object.entries(carried)) {
        if (typeof v === "number") rows.push([key, fmt(v, 5)]);
        else if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number") rows.push([key, pair(v)]);
      }
      const title = C.optimizers[s.opts[s.selected].name].title;
      const drawn = (shown || []).map(([view, v]) => el("li", {}, el("strong", {}, view.name),
        ` (${view.kind === "arrow" ? "arrow" : "path, its own dash"} on the map, now ${pair(v)}): ${view.meaning}`));
      parts.state.replaceChildren(el("p", {}, `What ${title} carries after step ${at}` + (drawn.length ? ", drawn on the map:" : ":")),
        ...(drawn.length ? [el("ul", { class: "og-pg-carried" }, ...drawn)] : []),
        el("table", {}, ...rows.map(([k, v]) => el("tr", {}, el("td", {}, el("code", {}, k)), el("td", {}, v)))));
    }

    function start() {
      state = parse(location.search);
      history.replaceState(history.state, "", location.pathname + "?" + query(state.setting) + location.hash);
      build();
      const watcher = new MutationObserver(() => {
        if (!root.isConnected) { watcher.disconnect(); return; }  // instant navigation left the page
        surface = null;
        draw();
      });
      watcher.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
    }

    window.ogPlayground = { parse, query, runAll, pythonCall, describe, fmt, reparse, get state() { return state; },
                            get runs() { return runs; }, compute: 0 };
    start();
  }
})();

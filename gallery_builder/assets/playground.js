/* The playground's engine: the catalogue's update rules, schedules and stopping rules, for one run at a time, in
   float64. The test functions come generated from their Python definitions (playground-catalogue.js); the update
   rules below are ported by hand from gallery_builder/optimizers/, in the same order of operations, so that a run
   equals the Python engine's to rounding (tests/test_playground_engine.py checks every optimizer on every function).
   A rule is make(h) -> {init(p), update(g, s, p, extra) -> [update, state], shown?(s, p), drawn?(s, p, extra)};
   h holds the hyperparameters, h.lr already scaled by the schedule at this step. drawn gives the values of the
   carried state's arrows and paths (the views each optimizer registers, optimizers/views.py, that go on the
   map, by their names there) for the state s at the shown point p. */
(function () {
  "use strict";
  let C = window.PG_CATALOGUE;  // read again by run(): Material's instant navigation may load the catalogue after this
  const V = (f) => [f(0), f(1)];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1];
  const norm = (a) => Math.sqrt(a[0] * a[0] + a[1] * a[1]);
  const cross = (a, b) => a[0] * b[1] - a[1] * b[0];
  /* pow rounded as C's libm rounds it (correctly, but for values within ~2^-90 of a midpoint): Python's float ** and
     numpy's power call libm, while V8's Math.pow is off by an ulp in about one call in ten. Double-double arithmetic:
     x^n by squaring for an integer n, exp(y·log x) otherwise. */
  const SPLIT = 134217729;  // 2^27 + 1, Dekker's splitter
  let H = 0, L = 0;  // the result of the last double-double operation
  function mulDD(ah, al, bh, bl) {  // (ah + al)(bh + bl), exact product of the heads (Dekker)
    const p = ah * bh;
    let t = SPLIT * ah; const ahh = t - (t - ah), ahl = ah - ahh;
    t = SPLIT * bh; const bhh = t - (t - bh), bhl = bh - bhh;
    const e = ((ahh * bhh - p) + ahh * bhl + ahl * bhh) + ahl * bhl + (ah * bl + al * bh);
    H = p + e; L = e - (H - p);
  }
  function addDD(ah, al, bh, bl) {
    const s = ah + bh, v = s - ah, e = (ah - (s - v)) + (bh - v) + al + bl;
    H = s + e; L = e - (H - s);
  }
  const LN2_HI = 0.6931471805599453, LN2_LO = 2.3190468138462996e-17;
  const RECIPROCALS = Array.from({ length: 14 }, (_, k) => 1 / (k + 1));
  function expDD(ah, al) {  // e^(ah + al) into H, L: k·ln2 + r, then (e^(r/256))^256 by Taylor and squaring
    const k = Math.round(ah / LN2_HI);
    mulDD(k, 0, LN2_HI, LN2_LO);
    addDD(ah, al, -H, -L);
    const rh = H / 256, rl = L / 256;
    let sh = 1, sl = 0;  // Horner: 1 + r(1 + r/2(1 + r/3(…)))
    for (let n = 13; n >= 1; n--) {
      mulDD(sh, sl, rh * RECIPROCALS[n - 1], rl * RECIPROCALS[n - 1]);
      addDD(1, 0, H, L); sh = H; sl = L;
    }
    for (let i = 0; i < 8; i++) { mulDD(sh, sl, sh, sl); sh = H; sl = L; }
    const scale = Math.pow(2, k);  // exact
    H = sh * scale; L = sl * scale;
  }
  function logDD(x) {  // log x into H, L: one Newton step from Math.log, l + x·e^(−l) − 1
    const l = Math.log(x);
    expDD(-l, 0);
    mulDD(H, L, x, 0);
    addDD(H, L, -1, 0);
    addDD(l, 0, H, L);
  }
  function pow(x, y) {
    if (y === 0 || x === 1) return 1;
    if (y === 1) return x;
    if (y === 2) return x * x;
    if (y === 0.5) return Math.sqrt(x);  // both correctly rounded
    if (!(x > 0) || !Number.isFinite(x) || !Number.isFinite(y)) {
      if (x < 0 && Number.isInteger(y) && Number.isFinite(x)) return (Math.abs(y) % 2 === 1 ? -1 : 1) * pow(-x, y);
      return Math.pow(x, y);
    }
    if (Number.isInteger(y) && Math.abs(y) <= 3) return powerOf(x, y);  // a function's x³: cheap, never repeated
    // The rules' powers repeat at every run (β^t at each step t): each is computed once (a microsecond) and kept.
    let row = POWERS.get(y);
    if (row === undefined) POWERS.set(y, row = new Map());
    let value = row.get(x);
    if (value === undefined) {
      if (++kept > 100000) { POWERS.clear(); kept = 0; POWERS.set(y, row); }
      row.set(x, value = powerOf(x, y));
    }
    return value;
  }
  const POWERS = new Map();  // y -> x -> x^y
  let kept = 0;

  function powerOf(x, y) {  // x > 0 finite, y finite
    if (Number.isInteger(y) && Math.abs(y) <= 4096) {
      let n = Math.abs(y), bh = x, bl = 0, rh = 1, rl = 0;
      while (n > 0) {
        if (n & 1) { mulDD(rh, rl, bh, bl); rh = H; rl = L; }
        n >>= 1;
        if (n) { mulDD(bh, bl, bh, bl); bh = H; bl = L; }
      }
      if (y > 0) return rh + rl;
      const q = 1 / rh;  // 1 / (rh + rl) in double-double: q + (1 − q·r)/r
      mulDD(q, 0, rh, rl);
      return q + (1 - H - L) * q;
    }
    logDD(x);
    mulDD(H, L, y, 0);
    if (H > 709.8) return Infinity;
    if (H < -745.2) return 0;
    expDD(H, L);
    return H + L;
  }
  // torch.lerp's rounding, which switches formula at weight 0.5 (base.lerp)
  const lerp = (a, b, w) => Math.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
  const lerp2 = (a, b, w) => V((i) => lerp(a[i], b[i], w));
  const sqAvg = (avg, g, decay) => V((i) => avg[i] * decay + (1 - decay) * (g[i] * g[i]));
  const moment = (g, m, decay) => V((i) => (1 - decay) * g[i] + decay * m[i]);  // optax's update_moment
  const bias = (m, decay, count) => { const inv = 1 / (1 - pow(decay, count)); return V((i) => m[i] * inv); };
  const sign = (x) => x > 0 ? 1 : x < 0 ? -1 : x;  // np.sign: 0 stays 0, NaN stays NaN
  const larger = (a, b) => b > a ? b : a;
  const smaller = (a, b) => b < a ? b : a;
  const ZERO = [0, 0];
  const scaled = (lr, v) => V((i) => -lr * v[i]);

  function heavyBall(nesterov) {
    return (h) => ({
      init: () => ({ step: 0, buf: ZERO }),
      update(g, s) {
        const buf = s.step === 0 ? g : V((i) => s.buf[i] * h.momentum + g[i]);
        const dir = nesterov ? V((i) => g[i] + h.momentum * buf[i]) : buf;
        return [scaled(h.lr, dir), { step: s.step + 1, buf }];
      },
      drawn: (s) => ({ "−lr·b": scaled(h.lr, s.buf) }),
    });
  }

  function adamLike(amsgrad, decoupled) {
    return (h) => ({
      init: () => ({ step: 0, m: ZERO, v: ZERO, vmax: ZERO }),
      update(g, s, p) {
        const t = s.step + 1;
        const m = lerp2(s.m, g, 1 - h.beta1);
        const v = sqAvg(s.v, g, h.beta2);
        const vmax = amsgrad ? V((i) => Math.max(s.vmax[i], v[i])) : v;
        const stepSize = h.lr / (1 - pow(h.beta1, t));
        const root = Math.sqrt(1 - pow(h.beta2, t));
        let u = V((i) => -stepSize * (m[i] / (Math.sqrt(vmax[i]) / root + h.eps)));
        if (decoupled) u = V((i) => u[i] - h.lr * h.weight_decay * p[i]);
        return [u, { step: t, m, v, vmax }];
      },
    });
  }

  const RULES = {
    sgd: (h) => ({ init: () => ({ step: 0 }), update: (g, s) => [scaled(h.lr, g), { step: s.step + 1 }] }),
    momentum: heavyBall(false),
    nesterov: heavyBall(true),
    adagrad: (h) => ({
      init: () => ({ step: 0, sum: [0 + h.initial_accumulator_value, 0 + h.initial_accumulator_value] }),
      update(g, s) {
        const sum = V((i) => s.sum[i] + g[i] * g[i]);
        return [V((i) => -h.lr * (g[i] / (Math.sqrt(sum[i]) + h.eps))), { step: s.step + 1, sum }];
      },
    }),
    rmsprop: (h) => ({
      init: () => ({ step: 0, square_avg: ZERO, buf: ZERO }),
      update(g, s) {
        const sq = sqAvg(s.square_avg, g, h.alpha);
        const buf = V((i) => s.buf[i] * h.momentum + g[i] / (Math.sqrt(sq[i]) + h.eps));
        return [scaled(h.lr, buf), { step: s.step + 1, square_avg: sq, buf }];
      },
      drawn: (s) => ({ "−lr·b": scaled(h.lr, s.buf) }),
    }),
    adadelta: (h) => ({
      init: () => ({ step: 0, square_avg: ZERO, acc_delta: ZERO }),
      update(g, s) {
        const sq = sqAvg(s.square_avg, g, h.rho);
        const delta = V((i) => Math.sqrt(s.acc_delta[i] + h.eps) / Math.sqrt(sq[i] + h.eps) * g[i]);
        const acc = sqAvg(s.acc_delta, delta, h.rho);
        return [scaled(h.lr, delta), { step: s.step + 1, square_avg: sq, acc_delta: acc }];
      },
    }),
    adam: adamLike(false, false),
    amsgrad: adamLike(true, false),
    adamw: adamLike(false, true),
    adamax: (h) => ({
      init: () => ({ step: 0, m: ZERO, u: ZERO }),
      update(g, s) {
        const t = s.step + 1;
        const m = lerp2(s.m, g, 1 - h.beta1);
        const u = V((i) => Math.max(s.u[i] * h.beta2, Math.abs(g[i]) + h.eps));
        const size = -(h.lr / (1 - pow(h.beta1, t)));
        return [V((i) => size * (m[i] / u[i])), { step: t, m, u }];
      },
    }),
    nadam: (h) => ({
      init: () => ({ step: 0, mu_product: 1.0, m: ZERO, v: ZERO }),
      update(g, s) {
        const t = s.step + 1;
        const muT = h.beta1 * (1.0 - 0.5 * pow(0.96, t * h.momentum_decay));
        const muNext = h.beta1 * (1.0 - 0.5 * pow(0.96, (t + 1) * h.momentum_decay));
        const prod = s.mu_product * muT;
        const m = lerp2(s.m, g, 1 - h.beta1);
        const v = sqAvg(s.v, g, h.beta2);
        const c2 = 1 - pow(h.beta2, t);
        const a = (-h.lr * (1.0 - muT)) / (1.0 - prod), b = (-h.lr * muNext) / (1.0 - prod * muNext);
        const u = V((i) => { const den = Math.sqrt(v[i] / c2) + h.eps; return a * (g[i] / den) + b * (m[i] / den); });
        return [u, { step: t, mu_product: prod, m, v }];
      },
    }),
    radam: (h) => {
      const rhoInf = 2 / (1 - h.beta2) - 1;
      return {
        init: () => ({ step: 0, m: ZERO, v: ZERO }),
        update(g, s) {
          const t = s.step + 1;
          const m = lerp2(s.m, g, 1 - h.beta1);
          const v = sqAvg(s.v, g, h.beta2);
          const c2 = 1 - pow(h.beta2, t), c1 = 1 - pow(h.beta1, t);
          const rhoT = rhoInf - 2 * t * pow(h.beta2, t) / c2;
          const rectified = rhoT > 5.0;
          const ratio = (rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT);
          const rect = pow(rectified ? ratio : 1.0, 0.5);
          const u = V((i) => {
            const sc = (m[i] / c1) * h.lr;
            return -(rectified ? sc * (pow(c2, 0.5) / (Math.sqrt(v[i]) + h.eps)) * rect : sc);
          });
          return [u, { step: t, m, v }];
        },
      };
    },
    lion: (h) => ({
      init: () => ({ count: 0, mu: ZERO }),
      update(g, s, p) {
        const dir = V((i) => sign((1.0 - h.beta1) * g[i] + h.beta1 * s.mu[i]));
        const mu = V((i) => (1.0 - h.beta2) * g[i] + h.beta2 * s.mu[i]);
        return [V((i) => -h.lr * (dir[i] + h.weight_decay * p[i])), { count: s.count + 1, mu }];
      },
    }),
    adabelief: (h) => ({
      init: () => ({ count: 0, mu: ZERO, nu: ZERO }),
      update(g, s) {
        const t = s.count + 1;
        const mu = V((i) => (1.0 - h.beta1) * g[i] + h.beta1 * s.mu[i]);
        const nu = V((i) => { const e = g[i] - mu[i]; return (1.0 - h.beta2) * (e * e) + h.beta2 * s.nu[i] + h.eps_root; });
        const c1 = 1 - pow(h.beta1, t), c2 = 1 - pow(h.beta2, t);
        return [V((i) => -h.lr * ((mu[i] / c1) / (Math.sqrt(nu[i] / c2) + h.eps))), { count: t, mu, nu }];
      },
    }),
    newton: (h) => ({
      init: () => ({ step: 0 }),
      update(g, s, p, extra) {
        const H = extra.hessian;
        const a = H[0] + h.damping, b = H[1], c = H[3] + h.damping;
        const det = a * c - b * b;
        const step = [c * g[0] - b * g[1], a * g[1] - b * g[0]];
        return [V((i) => -h.lr * (step[i] / det)), { step: s.step + 1 }];
      },
      drawn(s, p, extra) {  // the Hessian's unit eigenvectors at p, as segments of 6% of the domain's diagonal
        const [a, b, , c] = extra.hessian(p), mid = (a + c) / 2, r = Math.hypot((a - c) / 2, b);
        const out = {};
        [mid - r, mid + r].forEach((lambda, k) => {
          let v = Math.abs(a - lambda) >= Math.abs(c - lambda) ? [-b, a - lambda] : [lambda - c, b];
          if (v[0] === 0 && v[1] === 0) v = k ? [0, 1] : [1, 0];
          const n = Math.hypot(v[0], v[1]) * (v[0] < 0 ? -1 : 1);  // eigh's sign, fixed as the Newton view fixes it
          out[`eigen-direction λ${k ? "₂" : "₁"}`] = V((i) => v[i] / n * extra.size);
        });
        return out;
      },
    }),
    yogi: (h) => ({
      init: () => ({ count: 0, mu: [C.constants.yogi_initial, C.constants.yogi_initial],
                     nu: [C.constants.yogi_initial, C.constants.yogi_initial] }),
      update(g, s) {
        const count = s.count + 1;
        const mu = moment(g, s.mu, h.beta1);
        const nu = V((i) => { const sq = g[i] * g[i]; return s.nu[i] - (1 - h.beta2) * sign(s.nu[i] - sq) * sq; });
        const m = bias(mu, h.beta1, count), n = bias(nu, h.beta2, count);
        return [V((i) => -h.lr * (m[i] / (Math.sqrt(n[i]) + h.eps))), { count, mu, nu }];
      },
    }),
    adan: (h) => ({
      init: () => ({ m: ZERO, v: ZERO, n: ZERO, g: ZERO, t: 0 }),
      update(g, s, p) {
        const diff = s.t === 0 ? ZERO : V((i) => g[i] - s.g[i]);
        const m = moment(g, s.m, h.beta1), v = moment(diff, s.v, h.beta2);
        const ext = V((i) => g[i] + (1 - h.beta2) * diff[i]);
        const n = moment(V((i) => ext[i] * ext[i]), s.n, h.beta3);
        const t = s.t + 1;
        const bm = bias(m, h.beta1, t), bv = bias(v, h.beta2, t), bn = bias(n, h.beta3, t);
        const step = V((i) => (bm[i] + (1 - h.beta2) * bv[i]) / (Math.sqrt(bn[i] + h.eps_root) + h.eps)
                              + h.weight_decay * p[i]);
        return [scaled(h.lr, step), { m, v, n, g, t }];
      },
    }),
    novograd: (h) => ({
      init: () => ({ count: 0, mu: ZERO, nu: 0 }),
      update(g, s, p) {
        const count = s.count + 1;
        const n = norm(g), sq = n * n;
        const nu = count === 1 ? sq : (1 - h.beta2) * sq + h.beta2 * s.nu;
        const inv = 1 / (Math.sqrt(nu + h.eps_root) + h.eps);
        const normalized = V((i) => g[i] * inv + h.weight_decay * p[i]);
        const mu = count === 1 ? normalized : V((i) => h.beta1 * s.mu[i] + normalized[i]);
        return [scaled(h.lr, mu), { count, mu, nu }];
      },
      drawn: (s) => ({ "−lr·m": scaled(h.lr, s.mu) }),
    }),
    lamb: (h) => ({
      init: () => ({ count: 0, mu: ZERO, nu: ZERO }),
      update(g, s, p) {
        const count = s.count + 1;
        const mu = moment(g, s.mu, h.beta1), nu = moment(V((i) => g[i] * g[i]), s.nu, h.beta2);
        const bm = bias(mu, h.beta1, count), bn = bias(nu, h.beta2, count);
        const step = V((i) => bm[i] / (Math.sqrt(bn[i] + h.eps_root) + h.eps) + h.weight_decay * p[i]);
        const pn = norm(p), sn = norm(step);
        const ratio = (pn === 0 || sn === 0) ? 1.0 : pn / sn;
        return [V((i) => -h.lr * (step[i] * ratio)), { count, mu, nu }];
      },
    }),
    signum: (h) => ({
      init: () => ({ count: 0, ema: ZERO }),
      update(g, s) {
        const ema = moment(g, s.ema, h.momentum);
        return [V((i) => -h.lr * sign(ema[i])), { count: s.count + 1, ema }];
      },
      drawn: (s) => ({ "−lr·sign(m)": V((i) => -h.lr * sign(s.ema[i])) }),
    }),
    polyak_sgd: (h) => ({
      init: () => ({}),
      update(g, s, p, extra) {
        const dir = V((i) => -h.scaling * g[i]);
        const sq = dir[0] * dir[0] + dir[1] * dir[1];
        const polyak = Math.min((extra.value - h.f_min) / (sq + h.eps), h.lr);
        const step = sq + h.eps <= C.constants.machine_eps ? 0.0 : polyak;
        return [V((i) => step * dir[i]), s];
      },
    }),
    ademamix: (h) => ({
      init: () => ({ count: 0, count_m2: 0, m1: ZERO, m2: ZERO, nu: ZERO }),
      update(g, s, p) {
        const m1 = moment(g, s.m1, h.beta1), m2 = moment(g, s.m2, h.beta3);
        const nu = moment(V((i) => g[i] * g[i]), s.nu, h.beta2);
        const count = s.count + 1;
        const b1 = bias(m1, h.beta1, count), bn = bias(nu, h.beta2, count);
        const step = V((i) => (b1[i] + h.alpha_mix * m2[i]) / (Math.sqrt(bn[i] + h.eps_root) + h.eps)
                              + h.weight_decay * p[i]);
        return [scaled(h.lr, step), { count, count_m2: s.count_m2 + 1, m1, m2, nu }];
      },
    }),
    rprop: (h) => ({
      init: () => ({ step: 0, prev: ZERO, size: [0 + h.lr, 0 + h.lr] }),
      update(g, s) {
        const size = [0, 0], kept = [0, 0], u = [0, 0];
        for (let i = 0; i < 2; i++) {
          let f = sign(g[i] * s.prev[i]);
          if (f > 0) f = h.etaplus;
          if (f < 0) f = h.etaminus;
          if (f === 0) f = 1.0;
          size[i] = Math.min(Math.max(s.size[i] * f, h.step_size_min), h.step_size_max);
          kept[i] = f === h.etaminus ? 0.0 : g[i];
          u[i] = -sign(kept[i]) * size[i];
        }
        return [u, { step: s.step + 1, prev: kept, size }];
      },
    }),
    asgd: (h) => ({
      init: () => ({ step: 0, eta: 0 + h.lr, mu: 0 + 1.0, ax: ZERO }),
      update(g, s, p) {
        const t = s.step + 1;
        const gg = h.weight_decay !== 0 ? V((i) => g[i] + h.weight_decay * p[i]) : g;
        const theta = V((i) => p[i] * (1 - h.lambd * s.eta) - s.eta * gg[i]);
        const ax = s.mu !== 1 ? V((i) => s.ax[i] + (theta[i] - s.ax[i]) * s.mu) : theta;
        const eta = h.lr / pow(1 + h.lambd * h.lr * t, h.alpha) + 0;
        const excess = t - h.t0;
        const mu = 1 / (excess > 1 ? excess : 1.0) + 0;
        return [V((i) => theta[i] - p[i]), { step: t, eta, mu, ax }];
      },
      drawn: (s) => ({ average: s.ax }),
    }),
    adafactor: (h) => ({
      init: () => ({ step: 0, variance: ZERO }),
      update(g, s, p) {
        const t = s.step + 1;
        const weight = pow(t, h.beta2_decay);
        const inverseRoot = 1 / pow(t, 0.5);
        const rho = inverseRoot < h.lr ? inverseRoot : h.lr;
        const rms = norm(p) / Math.SQRT2;
        const alpha = (rms > h.eps2 ? rms : h.eps2) * rho;
        const variance = lerp2(s.variance, V((i) => g[i] * g[i]), weight);
        const floor = h.eps1 * h.eps1;
        const sc = V((i) => 1 / Math.sqrt(Math.max(variance[i], floor)) * g[i]);
        const clip = norm(sc) / (Math.SQRT2 * h.d);
        const den = clip > 1.0 ? clip : 1.0;
        const u = V((i) => -alpha / den * sc[i] + (h.weight_decay !== 0 ? p[i] * (1 - h.lr * h.weight_decay) - p[i] : 0.0));
        return [u, { step: t, variance }];
      },
    }),
    lbfgs: lbfgs,
    prodigy: prodigy,
    schedule_free_adamw: scheduleFree,
  };

  /* L-BFGS with torch's history of 100 pairs, in the closed form of second_order.LBFGSMemory: the newest pair and
     one number λ for all older ones, kept by blocks of links (see its docstring). */
  function remember(mem, y, s, ys) {
    const L = C.constants.lbfgs_links;
    const ro = 1.0 / ys;
    const scale = (ro * ro) * dot(s, s);
    let a = ro * dot(s, mem.y), b = ro * cross(s, mem.s);
    a = a * a; b = (b * b) * mem.ro;
    const number = mem.pushes, linked = number >= 1;
    const position = (((number - 1) % L) + L) % L;
    const opens = linked && position === 0;
    let suffix = mem.suffix;
    if (opens && number > 1) {  // the previous block is complete: compose it from each position to its end
      const after = new Array(L), tail = new Array(L), s0 = new Array(L), s1 = new Array(L);
      for (let j = L - 1; j >= 0; j--) after[j] = j === L - 1 ? mem.links[j][0] : after[j + 1] * mem.links[j][0];
      for (let j = 0; j < L; j++) tail[j] = (j < L - 1 ? after[j + 1] : 1) * mem.links[j][1];
      for (let j = L - 1; j >= 0; j--) {
        s0[j] = after[j] * mem.links[j][2];
        s1[j] = j === L - 1 ? tail[j] : s1[j + 1] + tail[j];
      }
      suffix = [s0, s1];
    }
    let prefix = opens ? [a, b] : [a * mem.prefix[0], a * mem.prefix[1] + b];
    if (!linked) prefix = [1.0, 0.0];
    const first = opens ? mem.scale : number === 0 ? scale : mem.first;
    const links = mem.links.slice();
    if (linked) links[position] = [a, b, mem.scale];
    return { pushes: number + 1, y, s, ro, scale, first, prefix, links, suffix };
  }

  function direction(g, mem, hDiag) {
    const L = C.constants.lbfgs_links;
    if (mem.pushes === 0) return V((i) => -g[i] * hDiag);
    const links = mem.pushes - 1;
    const position = ((((links - 1) % L) + L) % L) + 1;
    let coefficient = mem.first, constant = 0.0;
    if (!(links <= L || position === L)) {
      const at = Math.min(position, L - 1);
      coefficient = mem.suffix[0][at]; constant = mem.suffix[1][at];
    }
    const lam = mem.prefix[0] * (hDiag * coefficient + constant) + mem.prefix[1];
    const along = mem.ro * dot(mem.s, g), across = lam * cross(mem.y, g);
    const turned = [-mem.y[1], mem.y[0]];
    return V((i) => -(along * mem.s[i] + across * turned[i]));
  }

  function lbfgs(h) {
    const L = C.constants.lbfgs_links;
    return {
      init: () => ({ n_iter: 0, d: ZERO, t: 0, H_diag: 0 + 1.0, prev: ZERO,
                     memory: { pushes: 0, y: ZERO, s: ZERO, ro: 0, scale: 0, first: 0, prefix: [1, 0],
                               links: new Array(L).fill([1, 0, 0]),
                               suffix: [new Array(L).fill(0), new Array(L).fill(0)] } }),
      update(g, s) {
        const moving = !(Math.max(Math.abs(g[0]), Math.abs(g[1])) <= h.tolerance_grad);
        const nIter = s.n_iter + (moving ? 1 : 0);
        const first = nIter === 1, later = moving && !first;
        const y = V((i) => g[i] - s.prev[i]), st = V((i) => s.d[i] * s.t);
        const ys = dot(y, st);
        const push = later && ys > 1e-10;
        const memory = push ? remember(s.memory, y, st, ys) : s.memory;
        const hDiag = push ? ys / dot(y, y) : s.H_diag;
        const d = later ? direction(g, memory, hDiag) : first ? V((i) => -g[i]) : s.d;
        const inverse = 1.0 / (Math.abs(g[0]) + Math.abs(g[1]));
        const t = moving ? (first ? (inverse < 1.0 ? inverse : 1.0) * h.lr : h.lr) : s.t;
        const step = moving && !(dot(g, d) > -h.tolerance_change);
        return [step ? V((i) => d[i] * t) : [0.0, 0.0],
                { n_iter: nIter, d, t, H_diag: hDiag, prev: moving ? g : s.prev, memory }];
      },
      drawn: (s) => ({ "t·d": V((i) => s.d[i] * s.t) }),
    };
  }

  function prodigy(h) {
    const on = (v) => v !== 0 && v !== false;
    return {
      init: (p) => ({ k: 0, s: ZERO, p0: p.slice(), m: ZERO, v: ZERO, d: h.d0, d_max: h.d0, d_numerator: 0.0,
                      d_denom: 0.0, d_hat: h.d0 }),
      update(g0, st, p) {
        const d = st.d, k = st.k;
        let dlr = d * h.lr;
        if (on(h.use_bias_correction)) dlr = dlr * (pow(1 - pow(h.beta2, k + 1), 0.5) / (1 - pow(h.beta1, k + 1)));
        const decays = on(h.weight_decay), decoupled = on(h.decouple);
        const g = decays && !decoupled ? V((i) => g0[i] + h.weight_decay * p[i]) : g0;
        const away = V((i) => st.p0[i] - p[i]);
        const dNum = st.d_numerator * h.beta3 + (d / h.d0) * dlr * (g[0] * away[0] + g[1] * away[1]);
        const m = h.beta1 > 0 ? V((i) => st.m[i] * h.beta1 + d * (1 - h.beta1) * g[i]) : st.m;
        const v = V((i) => st.v[i] * h.beta2 + d * d * (1 - h.beta2) * g[i] * g[i]);
        const weight = on(h.safeguard_warmup) ? (d / h.d0) * d : (d / h.d0) * dlr;
        const s = V((i) => st.s[i] * h.beta3 + weight * g[i]);
        const dDenom = Math.abs(s[0]) + Math.abs(s[1]);
        const skip = dDenom === 0;
        const dHat = h.d_coef * dNum / (skip ? 1.0 : dDenom);
        let newD = d === h.d0 ? larger(d, dHat) : d;
        const dMax = larger(st.d_max, dHat);
        newD = smaller(dMax, newD * h.growth_rate);
        const decayed = decays && decoupled ? V((i) => p[i] + (-h.weight_decay * dlr) * p[i]) : p;
        const u = V((i) => {
          const denom = Math.sqrt(v[i]) + newD * h.eps;
          const step = h.beta1 > 0 ? -dlr * (m[i] / denom) : (-dlr * newD) * (g[i] / denom);
          return skip ? 0.0 : (decayed[i] + step) - p[i];
        });
        if (skip) {  // prodigyopt returns before the step: only the accumulators move
          return [u, { k, s, p0: st.p0, m, v, d, d_max: st.d_max, d_numerator: st.d_numerator, d_denom: st.d_denom,
                       d_hat: st.d_hat }];
        }
        return [u, { k: k + 1, s, p0: st.p0, m, v, d: newD, d_max: dMax, d_numerator: dNum, d_denom: dDenom, d_hat: dHat }];
      },
    };
  }

  function scheduleFree(h) {
    return {
      init: (p) => ({ k: 0, z: p.slice(), v: ZERO, weight_sum: 0.0, lr_max: -1.0 }),
      update(g, st, p) {
        const k = st.k;
        const warming = k < h.warmup_steps;
        const sched = h.lr * (warming ? (k + 1) / h.warmup_steps : 1.0);
        const lrMax = larger(sched, st.lr_max);
        const weight = pow(k + 1, h.r) * pow(lrMax, h.weight_lr_power);
        const weightSum = st.weight_sum + weight;
        const ckp1 = weightSum === 0 ? 0.0 : weight / weightSum;
        const v = V((i) => st.v[i] * h.beta2 + (1 - h.beta2) * g[i] * g[i]);
        const c2 = 1 - pow(h.beta2, k + 1);
        const normalized = V((i) => {
          const n = g[i] / (Math.sqrt(v[i] / c2) + h.eps);
          return h.weight_decay !== 0 ? n + h.weight_decay * p[i] : n;
        });
        const factor = sched * (h.beta1 * (1 - ckp1) - 1);
        const y = V((i) => lerp(p[i], st.z[i], ckp1) + factor * normalized[i]);
        const z = V((i) => st.z[i] - sched * normalized[i]);
        return [V((i) => y[i] - p[i]), { k: k + 1, z, v, weight_sum: weightSum, lr_max: lrMax }];
      },
      shown: (st, p) => lerp2(p, st.z, 1 - 1 / h.beta1),
      drawn: (st, p) => ({ z: st.z, "gradient point y": st.gradient_point || p }),
    };
  }

  /* Schedules: λ(i) for i = 0 … steps−1, as schedules.Schedule.multipliers; a warmup that does not fit is an
     error message, never a run. */
  function multipliers(name, params, steps) {
    const out = new Float64Array(steps);
    const W = params.warmup, D = params.decay || 0;
    if ((name === "warmup_cosine" || name === "wsd") && (W + D > steps || (name === "warmup_cosine" && W >= steps))) {
      throw new PlaygroundError(`schedule ${name}: the warmup${D ? " and decay" : ""} must fit in the ${steps} steps of the run`);
    }
    for (let i = 0; i < steps; i++) {
      if (name === "constant") out[i] = 1;
      else if (name === "cosine") out[i] = (1 + Math.cos(Math.PI * i / steps)) / 2;
      else if (name === "step_decay") out[i] = pow(params.gamma, Math.floor(i / params.step_size));
      else if (i < W) out[i] = (i + 1) / W;
      else if (name === "warmup_cosine") out[i] = (1 + Math.cos(Math.PI * (i - W) / (steps - W))) / 2;
      else out[i] = i < steps - D ? 1.0 : (steps - i) / Math.max(D, 1);
    }
    return out;
  }

  class PlaygroundError extends Error {}

  const finite2 = (a) => Number.isFinite(a[0]) && Number.isFinite(a[1]);

  /* One run, as engine.run_many runs a member alone: the same stopping rules (diverged at the first non-finite
     step, left the domain outside the function's escape box) and the same final status. */
  function run(spec) {
    C = window.PG_CATALOGUE;
    const { fn: name, opt: optName, steps } = spec;
    const meta = C.functions[name], code = C.code[name], om = C.optimizers[optName];
    const make = RULES[optName];
    if (!meta || !om || !make) throw new PlaygroundError(`no ${!meta ? "function " + name : "optimizer " + optName}`);
    const hyper = { ...om.defaults, ...(spec.hyper || {}) };
    if (om.needs_minimum) hyper.f_min = meta.minimum;
    const sched = spec.schedule && spec.schedule.name !== "constant"
      ? multipliers(spec.schedule.name, spec.schedule.params || {}, steps) : null;
    const sigma = spec.sigma || 0, xi = spec.xi;
    const derivs = om.hessian ? code.vgh : code.vg;
    const rule = make(hyper);
    let stepRule = rule;
    const points = new Float64Array(2 * (steps + 1)).fill(NaN), values = new Float64Array(steps + 1).fill(NaN);
    let pos = [spec.start[0], spec.start[1]];
    let out = derivs(pos[0], pos[1]);
    let value = out[0], grad = [out[1], out[2]], hess = out.slice(3);
    let state = rule.init(pos);
    const [low, high] = meta.box, minimum = meta.minimum;
    const within = (v) => minimum !== null && Math.abs(v - minimum) <= C.constants.tolerance;
    let active = finite2(pos) && Number.isFinite(value);
    let status = active ? null : "diverged", stopStep = active ? -1 : 0, last = 0, firstWithin = -1;
    let finalPoint = pos, finalValue = value, finalGrad = Math.hypot(grad[0], grad[1]);
    if (active && within(value)) firstWithin = 0;
    points[0] = pos[0]; points[1] = pos[1]; values[0] = value;
    const states = spec.record_state ? [state] : null;
    for (let step = 1; step <= steps && active; step++) {
      const seen = sigma > 0 ? V((i) => grad[i] + sigma * xi[2 * (step - 1) + i]) : grad;
      if (sched) stepRule = make({ ...hyper, lr: hyper.lr * sched[step - 1] });
      const [upd, next] = stepRule.update(seen, state, pos, { value, hessian: hess });
      state = next;
      const cand = V((i) => pos[i] + upd[i]);
      out = derivs(cand[0], cand[1]);
      let shown = cand, shownValue = out[0];
      if (rule.shown) { shown = rule.shown(state, cand); shownValue = code.v(shown[0], shown[1])[0]; }
      const inside = shown[0] >= low[0] && shown[0] <= high[0] && shown[1] >= low[1] && shown[1] <= high[1];
      const sound = !rule.shown || (Number.isFinite(out[0]) && finite2(cand));
      let record = true;
      if (!(inside && Number.isFinite(shownValue) && sound)) {
        record = Number.isFinite(shownValue) && finite2(shown) && sound;
        stopStep = step; active = false;
        if (record) {  // left the domain: it ends here, outside
          status = "escaped"; last = step; finalPoint = shown; finalValue = shownValue;
          finalGrad = Math.hypot(out[1], out[2]);
        } else {  // diverged: it ends at its previous step
          status = "diverged"; last = step - 1; finalGrad = Math.hypot(grad[0], grad[1]);
        }
      }
      if (!record) break;
      if (firstWithin < 0 && within(shownValue)) firstWithin = step;
      points[2 * step] = shown[0]; points[2 * step + 1] = shown[1]; values[step] = shownValue;
      if (states) states.push(rule.shown ? { ...state, gradient_point: cand } : state);
      if (active) { finalPoint = shown; finalValue = shownValue; last = step; }
      pos = cand; value = out[0]; grad = [out[1], out[2]]; hess = out.slice(3);
    }
    if (status === null) {
      finalGrad = Math.hypot(grad[0], grad[1]);
      const gap = minimum === null ? NaN : finalValue - minimum;
      const atMinimum = Math.abs(gap) <= C.constants.tolerance;
      let captured = false;
      for (const m of meta.minimizers) {
        if (Math.hypot(finalPoint[0] - m[0], finalPoint[1] - m[1]) <= C.constants.capture * meta.width) captured = true;
      }
      status = atMinimum ? "converged" : (!captured && finalGrad <= C.constants.stall) ? "stalled" : "moving";
    }
    return { points, values, status, stopStep, last, firstWithin, finalPoint, finalValue, hyper, states };
  }

  /* What the rule of ``opt`` draws of run r (PG.run with record_state) on function fn at recorded step j: its
     drawn() of the state and the shown point there, by view name; null when the rule draws nothing. */
  function drawn(r, opt, fn, j) {
    const rule = RULES[opt](r.hyper);
    if (!rule.drawn) return null;
    const code = C.code[fn], [[x0, x1], [y0, y1]] = C.functions[fn].domain;
    const extra = { hessian: (p) => code.vgh(p[0], p[1]).slice(3), size: 0.06 * Math.hypot(x1 - x0, y1 - y0) };
    return rule.drawn(r.states[j], [r.points[2 * j], r.points[2 * j + 1]], extra);
  }

  window.PG = { run, drawn, multipliers, pow, RULES, PlaygroundError };
})();

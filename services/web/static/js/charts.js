/* Line charts on uPlot (made for large series): zoom (drag; wheel), pan (shift+drag), reset (double
   click), smoothing, log scale, a min/max band. Each chart's element carries data-points (points drawn
   in its first series) and data-bands (bands drawn), which tests and scripts can read. */
"use strict";
(function () {
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function ema(values, weight) {
    if (!weight) return values;
    const out = new Array(values.length); let last = null, debias = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number") { out[i] = v; continue; }
      last = last === null ? v * (1 - weight) : last * weight + v * (1 - weight);
      debias = debias * weight + (1 - weight);
      out[i] = last / debias;
    }
    return out;
  }

  /* Min/max envelope over a sliding window of sampled points (the sampler keeps per-bucket extremes). */
  function envelope(values, window) {
    const lo = new Array(values.length), hi = new Array(values.length), h = Math.max(1, window >> 1);
    for (let i = 0; i < values.length; i++) {
      let a = Infinity, b = -Infinity;
      for (let j = Math.max(0, i - h); j <= Math.min(values.length - 1, i + h); j++) {
        const v = values[j]; if (typeof v === "number") { if (v < a) a = v; if (v > b) b = v; }
      }
      lo[i] = a === Infinity ? null : a; hi[i] = b === -Infinity ? null : b;
    }
    return [lo, hi];
  }

  function numeric(values) { return values.map((v) => (typeof v === "number" ? v : null)); }

  function wheelZoom() {
    return { hooks: { ready: (u) => {
      u.over.addEventListener("wheel", (e) => {
        e.preventDefault();
        const x = u.posToVal(e.offsetX, "x"), min = u.scales.x.min, max = u.scales.x.max;
        const f = e.deltaY < 0 ? 0.8 : 1.25;
        u.setScale("x", { min: x - (x - min) * f, max: x + (max - x) * f });
      }, { passive: false });
      u.over.addEventListener("mousedown", (e) => {
        if (!e.shiftKey) return;
        e.stopPropagation();
        const x0 = e.clientX, min = u.scales.x.min, max = u.scales.x.max, per = (max - min) / u.bbox.width * devicePixelRatio;
        const move = (m) => { const d = (m.clientX - x0) * per; u.setScale("x", { min: min - d, max: max - d }); };
        const up = () => { document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up); };
        document.addEventListener("mousemove", move); document.addEventListener("mouseup", up);
      }, true);
    } } };
  }

  /* spec: {title, xLabel, time, log, x: [...], series: [{label, values, color?, width?}],
            bands: [[hiIndex, loIndex, color]] (indices into series, 1-based like uPlot)} */
  function draw(container, spec) {
    container.replaceChildren();
    const width = Math.max(300, container.clientWidth || 600);
    const series = [{ label: spec.xLabel || "step" }];
    spec.series.forEach((s, i) => series.push({
      label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: s.width || 1.5,
      fill: s.fill, spanGaps: true, points: { show: false }, show: s.show !== false,
    }));
    const opts = {
      title: spec.title, width, height: spec.height || 220, series,
      scales: { x: { time: !!spec.time, ...(spec.logX ? { distr: 3 } : {}) }, y: spec.log ? { distr: 3 } : {} },
      axes: [{ label: spec.xLabel || "" }, {}],
      cursor: { drag: { x: true, y: false, setScale: true } },
      legend: { show: spec.legend !== false },
      plugins: [wheelZoom()],
      bands: (spec.bands || []).map(([hi, lo, color]) => ({ series: [hi, lo], fill: color || "rgba(31,119,180,0.15)" })),
    };
    const ys = spec.series.map((s) => (spec.log ? numeric(s.values).map((v) => (v > 0 ? v : null)) : numeric(s.values)));
    const plot = new uPlot(opts, [spec.x, ...ys], container);
    container.dataset.points = String(spec.series.length ? ys[0].filter((v) => v !== null).length : 0);
    container.dataset.bands = String(opts.bands.length);
    container.dataset.series = String(spec.series.length);
    return plot;
  }

  window.Charts = { draw, ema, envelope, COLORS };
})();

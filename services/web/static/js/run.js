/* A run: overview (config, summary with min/max/mean, tags, notes, provenance), a chart per metric key
   (x = step, wall time, relative time or another metric; smoothing; log scale; min/max band), files,
   artifacts used and logged. Charts of a running run refresh every 5 s. Metric definitions
   (run.define_metric) are honoured as W&B does: a hidden metric gets no chart, and a metric with a
   step_metric is drawn against it while the x axis is "step". */
"use strict";
(function () {
  const { el, api, qs, content, page, fmtValue, fmtTime, fmtNum, table, kv } = S;
  const base = `${S.url.apiProject(page.entity, page.project)}/runs/${encodeURIComponent(page.run)}`;
  S.projectCrumbs(["runs", S.url.project(page.entity, page.project)], [page.run, null]);
  const view = { x: "_step", smooth: 0, log: false, band: false, keys: [], allKeys: [], history: {}, charts: new Map(), run: null, timer: null };

  const overview = el("section", { id: "overview" });
  const controls = el("div", { class: "chart-controls", id: "chart-controls" });
  const grid = el("div", { id: "charts", class: "charts" });
  const files = el("section", { id: "files" });
  const arts = el("section", { id: "artifacts" });
  content().append(overview, el("h2", { text: "Charts" }), controls, grid, arts, files);

  function renderOverview(r) {
    document.getElementById("title").textContent = r.display_name || r.id;
    const summaryRows = Object.keys(r.summary).sort().map((k) => {
      const s = r.summary[k];
      return [el("code", { text: k }), fmtValue(s.last), fmtNum(s.min), fmtNum(s.max), fmtNum(s.mean), String(s.count)];
    });
    const p = r.provenance;
    overview.replaceChildren(
      el("p", {}, el("span", { id: "run-state", class: `state ${r.state}`, text: r.state }), " ",
        el("span", { id: "run-job-type", text: r.job_type ? `job type ${r.job_type}` : "" }), " ",
        el("span", { text: r.group ? ` · group ${r.group}` : "" }), " · ", el("span", { text: `by ${r.user}` }),
        " · ", el("span", { text: `created ${fmtTime(r.create_time)}` })),
      el("p", { id: "run-tags" }, r.tags.map((t) => el("span", { class: "tag", text: t }))),
      r.notes ? el("p", { id: "run-notes", class: "notes", text: r.notes }) : "",
      el("div", { class: "cols" },
        el("div", {}, el("h3", { text: "Config" }), el("div", { id: "run-config", class: "scroll" }, kv(S.flatten(r.config)))),
        el("div", {}, el("h3", { text: "Summary" }), el("div", { class: "scroll" },
          table(["key", "last", "min", "max", "mean", "points"], summaryRows, { id: "run-summary" }))),
        el("div", {}, el("h3", { text: "Provenance" }), kv(Object.fromEntries(Object.entries({ "os user": p.os_user, host: p.host, "git commit": p.git_commit + (p.git_dirty ? " (dirty)" : ""), "git remote": p.git_remote, command: p.command, runtime: p.runtime }).filter(([, v]) => v))))),
      el("p", {}, el("a", { id: "lineage-link", href: S.url.lineage(page.entity, page.project, r.name), text: "Lineage graph" })));
  }

  function renderControls() {
    const xSel = el("select", { id: "x-axis" },
      [["_step", "step"], ["_timestamp", "wall time"], ["_relative", "relative time"]].map(([v, l]) => el("option", { value: v, text: l })),
      view.allKeys.map((k) => el("option", { value: k, text: `metric: ${k}` })));
    xSel.addEventListener("change", () => { view.x = xSel.value; loadHistory(); });
    const smooth = el("input", { id: "smoothing", type: "range", min: 0, max: 0.99, step: 0.01, value: 0 });
    smooth.addEventListener("input", () => { view.smooth = Number(smooth.value); redrawAll(); });
    const log = el("input", { id: "log-scale", type: "checkbox" });
    log.addEventListener("change", () => { view.log = log.checked; redrawAll(); });
    const band = el("input", { id: "band", type: "checkbox" });
    band.addEventListener("change", () => { view.band = band.checked; redrawAll(); });
    controls.replaceChildren(el("label", {}, "x axis ", xSel), el("label", {}, "smoothing ", smooth),
      el("label", {}, log, " log scale"), el("label", {}, band, " min/max band"),
      el("span", { class: "muted", text: "drag: zoom · wheel: zoom · shift+drag: pan · double-click: reset" }));
  }

  /* run.define_metric's definition of `key`: its exact name first, then the first glob ("val/*") matching. */
  function definitionOf(key) {
    const defs = (view.run && view.run.metric_definitions) || {};
    if (Object.prototype.hasOwnProperty.call(defs, key)) return defs[key];
    const glob = Object.keys(defs).find((g) => /[*?[]/.test(g) && globMatch(g, key));
    return glob === undefined ? null : defs[glob];
  }
  function globMatch(glob, key) {  /* fnmatch: * any run of characters, ? one, [...] a class */
    const re = glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    try { return new RegExp(`^${re}$`).test(key); } catch (e) { return false; }
  }
  /* The x axis of `key`'s chart: the chosen one, or the key's step_metric while "step" is chosen. */
  function xOf(key) {
    const d = definitionOf(key);
    return view.x === "_step" && d && d.step_metric && d.step_metric !== key ? d.step_metric : view.x;
  }

  function xFor(s, x) {
    if (x === "_step") return s.steps;
    if (x === "_timestamp") return s.times;
    if (x === "_relative") { const t0 = view.run.create_time || s.times[0] || 0; return s.times.map((t) => t - t0); }
    return s.x_values;
  }

  function drawChart(key) {
    const holder = view.charts.get(key); const s = view.history[key];
    if (!holder || !s || !holder.visible) return;
    const raw = s.values, smoothed = Charts.ema(raw, view.smooth);
    const series = [{ label: key, values: smoothed }];
    const bands = [];
    if (view.smooth > 0) series.push({ label: `${key} (raw)`, values: raw, color: "rgba(31,119,180,0.25)", width: 1 });
    if (view.band) {
      const [lo, hi] = Charts.envelope(raw, Math.max(2, Math.round(raw.length / 100)));
      series.push({ label: "max", values: hi, color: "rgba(31,119,180,0.3)", width: 0.5 }, { label: "min", values: lo, color: "rgba(31,119,180,0.3)", width: 0.5 });
      bands.push([series.length - 1, series.length]);
    }
    const x = xOf(key);
    const xLabel = { _step: "step", _timestamp: "wall time", _relative: "seconds since start" }[x] || x;
    const chart = Charts.draw(holder.el, { title: key, x: xFor(s, x), series, bands, xLabel, time: x === "_timestamp", log: view.log });
    holder.el.dataset.x = x;
    holder.el.dataset.total = String(s.total_points);
    holder.plot = chart;
  }
  function redrawAll() { for (const key of view.charts.keys()) drawChart(key); }

  /* Charts load their history when they first come into view, so a run with hundreds of keys shows its
     first charts after fetching only those (then more as you scroll). */
  function buildCharts() {
    const observer = new IntersectionObserver((entries) => {
      const wanted = [];
      entries.forEach((e) => {
        const key = e.target.dataset.key; const holder = view.charts.get(key);
        if (e.isIntersecting && !holder.visible) { holder.visible = true; wanted.push(key); }
      });
      if (wanted.length) loadKeys(wanted).catch((err) => S.showError(controls, err));
    }, { rootMargin: "300px" });
    grid.replaceChildren();
    for (const key of view.keys) {
      const box = el("div", { class: "chart", "data-key": key });
      view.charts.set(key, { el: box, visible: false, plot: null });
      grid.appendChild(box);
      observer.observe(box);
    }
  }

  async function loadKeys(keys) {
    const byX = new Map();  /* one history request per x axis (keys with a step_metric have their own) */
    keys.forEach((k) => { const x = xOf(k) === "_relative" ? "_timestamp" : xOf(k); byX.set(x, [...(byX.get(x) || []), k]); });
    for (const [x, xKeys] of byX) {
      for (let i = 0; i < xKeys.length; i += 100) {
        const part = xKeys.slice(i, i + 100);
        const r = await api("GET", `${base}/history${qs({ key: part, samples: 500, x_axis: x === "_step" ? "" : x })}`);
        r.series.forEach((s) => { view.history[s.key] = s; });
        part.forEach(drawChart);
      }
    }
    document.body.dataset.chartsReady = "1";
  }

  /* Every chart seen so far, again (x axis changed, or a running run's periodic refresh). */
  async function loadHistory() {
    view.history = {};
    await loadKeys([...view.charts.entries()].filter(([, h]) => h.visible).map(([k]) => k));
  }

  async function refresh() {
    clearTimeout(view.timer);
    const { run } = await api("GET", base);
    view.run = run;
    renderOverview(run);
    if (run.state === "running") {
      await loadHistory();
      view.timer = setTimeout(refresh, 5000);
    }
  }

  async function loadSides() {
    const a = await api("GET", `${base}/artifacts`);
    const item = (n) => el("li", {}, el("a", { href: S.resourceUrl(n.name) || "#", text: S.shortName(n.name) }), ` (${n.artifact_type})`);
    arts.replaceChildren(el("h2", { text: "Artifacts" }),
      el("div", { class: "cols" },
        el("div", {}, el("h3", { text: "Used" }), el("ul", { id: "artifacts-used" }, a.used.map(item))),
        el("div", {}, el("h3", { text: "Logged" }), el("ul", { id: "artifacts-logged" }, a.logged.map(item)))));
    const f = await api("GET", `${base}/files`);
    files.replaceChildren(el("h2", { text: "Files" }), f.files.length
      ? table(["path", "size"], f.files.map((x) => [el("a", { href: `${base}/file${qs({ path: x.path })}`, text: x.path }), S.fmtSize(x.size)]), { id: "run-files" })
      : el("p", { class: "muted", text: "none" }));
  }

  (async () => {
    try {
      const [{ run }, { keys }] = await Promise.all([api("GET", base), api("GET", `${base}/keys`)]);
      view.run = run; renderOverview(run);
      view.allKeys = keys.map((k) => k.key);
      view.keys = view.allKeys.filter((k) => !(definitionOf(k) || {}).hidden);
      renderControls(); buildCharts();
      if (!view.keys.length) {
        grid.replaceChildren(el("p", { class: "muted", id: "no-charts", text: "no metrics logged" }));
        document.body.dataset.chartsReady = "1";
      }
      if (run.state === "running") view.timer = setTimeout(refresh, 5000);
      await loadSides();
    } catch (e) { S.showError(overview, e); }
  })();
})();

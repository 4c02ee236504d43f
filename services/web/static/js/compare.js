/* Compare: N runs' metric on one shared chart, or grouped by a key (config.<path>, job_type, group...)
   as a mean line plus a min/max band per group. */
"use strict";
(function () {
  const { el, api, content, page, qs } = S;
  const base = S.url.apiProject(page.entity, page.project);
  S.projectCrumbs(["runs", S.url.project(page.entity, page.project)], ["compare", null]);
  const params = new URLSearchParams(location.search);
  const runs = (params.get("runs") || "").split(",").filter(Boolean);
  const keySel = el("select", { id: "compare-key" });
  const group = el("input", { id: "compare-group", size: 20, value: params.get("group_by") || "", placeholder: "group by, e.g. config.lr" });
  const go = el("button", { id: "compare-apply", text: "Show" });
  const chart = el("div", { id: "compare-chart", class: "chart" });
  const legend = el("div", { id: "compare-legend", class: "legend" });
  const status = el("p", { class: "muted" });
  content().append(el("form", { class: "inline", id: "compare-form" }, el("label", {}, "metric ", keySel), el("label", {}, "group by ", group), go),
    status, chart, legend);

  async function draw() {
    const key = keySel.value;
    history.replaceState(null, "", location.pathname + qs({ runs: runs.join(","), key, group_by: group.value.trim() }));
    status.textContent = "loading…";
    try {
      const r = await api("POST", `${base}/compare`, { runs, key, samples: 500, group_by: group.value.trim() });
      status.textContent = `${runs.length} runs`;
      if (r.bands) drawBands(key, r.bands); else drawLines(key, r.series);
      chart.dataset.ready = "1";
    } catch (e) { S.showError(status, e); }
  }

  function drawLines(key, series) {
    const data = uPlot.join(series.map((s) => [s.steps, s.values.map((v) => (typeof v === "number" ? v : null))]));
    const x = Array.from(data[0]);
    Charts.draw(chart, { title: key, x, xLabel: "step", legend: series.length <= 20,
      series: series.map((s, i) => ({ label: S.shortName(s.run), values: Array.from(data[i + 1]), width: 1 })) });
    legend.replaceChildren();
  }

  function drawBands(key, bands) {
    const series = [], pairs = [];
    bands.forEach((b, i) => {
      const color = Charts.COLORS[i % Charts.COLORS.length];
      series.push({ label: `${group.value.trim()}=${b.value} mean (${b.run_count} runs)`, values: b.mean, color, width: 2 });
      series.push({ label: `max`, values: b.max, color: color + "55", width: 0.5 });
      series.push({ label: `min`, values: b.min, color: color + "55", width: 0.5 });
      pairs.push([series.length - 1, series.length, color + "22"]);
    });
    const x = bands.length ? bands[0].steps : [];
    Charts.draw(chart, { title: `${key} by ${group.value.trim()}`, x, xLabel: "step", series, bands: pairs });
    legend.replaceChildren(...bands.map((b, i) => {
      const swatch = el("b", { text: "■ " });
      swatch.style.color = Charts.COLORS[i % Charts.COLORS.length];  // CSSOM, allowed by the CSP (no inline style)
      return el("span", { class: "group", "data-value": b.value }, swatch, `${b.value} (${b.run_count} runs)`);
    }));
  }

  go.addEventListener("click", (ev) => { ev.preventDefault(); draw(); });
  keySel.addEventListener("change", draw);
  (async () => {
    if (!runs.length) { status.textContent = "Select runs in the runs table, then Compare."; return; }
    const { keys } = await api("GET", `${base}/runs/${encodeURIComponent(runs[0])}/keys`);
    const wanted = params.get("key") || (keys.find((k) => /loss/.test(k.key)) || keys[0] || {}).key;
    keys.forEach((k) => keySel.appendChild(el("option", { value: k.key, text: k.key, selected: k.key === wanted })));
    await draw();
  })().catch((e) => S.showError(status, e));
})();

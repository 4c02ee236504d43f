/* A report: title, description, then its blocks in order. Headings and Markdown are drawn from the
   spec (Markdown as the server rendered it, rebuilt by markdown.js through an allowlist); each panel of a PanelGrid fetches its own data (one
   GetPanelData each) and draws it: LinePlots with uPlot (one mean line per group plus its band; the
   chart element's data-series counts the group lines), RunsTables, ParallelCoordinates and BarPlots as
   tables, ScatterPlots as uPlot points, ScalarCharts as one number, MediaPanels through media.js. A panel whose data says `live`
   fetches again every 5 seconds. A panel the viewer may not read shows the server's message. */
"use strict";
(function () {
  const { el, api, content, page, fmtValue, fmtNum } = S;
  const enc = encodeURIComponent;
  const base = `${S.url.apiProject(page.entity, page.project)}/reports/${enc(page.report)}`;
  const reportsUrl = `/p/${enc(page.entity)}/${enc(page.project)}/reports`;
  const LIVE_MS = 5000;

  function groupLabel(panel, s, keys) {
    let group = s.group;
    try { const v = JSON.parse(group); group = typeof v === "string" ? v : fmtValue(v); } catch (e) { /* a run name */ }
    const who = panel.groupby ? `${panel.groupby}=${group}` : group;
    return `${keys > 1 ? s.key + " · " : ""}${who} (${s.run_count} run${s.run_count === 1 ? "" : "s"})`;
  }

  function linePlot(box, panel, data) {
    const chart = el("div", { class: "chart report-chart" });
    box.replaceChildren(chart);
    const keys = new Set(data.series.map((s) => s.key)).size;
    const parts = [], series = [], bands = [];
    data.series.forEach((s, i) => {
      const color = Charts.COLORS[i % Charts.COLORS.length];
      const keep = (x) => !panel.log_x || x > 0;
      const xs = s.x.filter(keep), pick = (vals) => vals.filter((_, j) => keep(s.x[j]));
      parts.push([xs, pick(s.y)]);
      series.push({ label: groupLabel(panel, s, keys), color, width: 2 });
      if (s.lower.length && s.upper.length) {
        parts.push([xs, pick(s.upper)], [xs, pick(s.lower)]);
        series.push({ label: "upper", color: color + "55", width: 0.5 }, { label: "lower", color: color + "55", width: 0.5 });
        bands.push([series.length - 1, series.length, color + "22"]);
      }
    });
    if (!parts.length) { chart.appendChild(el("p", { class: "muted", text: "No data: no run of this panel logged these keys." })); chart.dataset.series = "0"; return; }
    const joined = uPlot.join(parts);
    series.forEach((s, i) => (s.values = Array.from(joined[i + 1])));
    Charts.draw(chart, { x: Array.from(joined[0]), xLabel: panel.x || "_step", legend: false, time: panel.x === "_timestamp",
      log: !!panel.log_y, logX: !!panel.log_x, series, bands });
    chart.dataset.series = String(data.series.length);
    // The legend names the group lines only (the band edges are drawn faintly with them).
    const lines = series.filter((s) => s.width === 2);
    box.appendChild(el("div", { class: "legend" }, lines.map((s) => {
      const swatch = el("b", { text: "■ " });
      swatch.style.color = s.color;  // CSSOM, allowed by the CSP (no inline style)
      return el("span", { class: "group" }, swatch, s.label);
    })));
  }

  function cellFor(column, value, row) {
    if (column === "name") return el("a", { href: S.resourceUrl(row.run) || "#", text: row.display_name || S.shortName(row.run) });
    return fmtValue(value);
  }

  /* Rows are drawn a page of TABLE_PAGE at a time (a 10,000-run table is 60,000 cells otherwise). */
  const TABLE_PAGE = 100;
  function runsTable(box, panel, data, start) {
    const columns = data.columns, from = start || 0, n = data.rows.length;
    const shown = data.rows.slice(from, from + TABLE_PAGE);
    const t = S.table(columns, shown.map((r) => columns.map((c, i) => cellFor(c, r.values[i], r))), { class: "report-runs" });
    const note = n > TABLE_PAGE ? `${from + 1}–${from + shown.length} of ${n} listed, ${data.run_count} runs` : `${n} of ${data.run_count} runs`;
    const parts = [el("p", { class: "muted", text: note }), t];
    if (n > TABLE_PAGE) {
      const go = (at) => () => runsTable(box, panel, data, at);
      parts.push(el("div", { class: "pager" },
        el("button", { class: "table-prev", text: "‹ prev", disabled: from === 0, onclick: go(Math.max(0, from - TABLE_PAGE)) }),
        el("button", { class: "table-next", text: "next ›", disabled: from + TABLE_PAGE >= n, onclick: go(from + TABLE_PAGE) })));
    }
    box.replaceChildren(...parts);
    box.dataset.rows = String(n);
  }

  function barPlot(box, panel, data) {
    const max = Math.max(1e-300, ...data.values.map((v) => Math.abs(v || 0)));
    const rows = data.labels.map((label, i) => {
      const bar = el("span", { class: "bar-fill" });
      bar.style.width = `${Math.round((Math.abs(data.values[i] || 0) / max) * 100)}%`;  // CSSOM, allowed by the CSP
      return [label, fmtNum(data.values[i]), el("span", { class: "bar-track" }, bar)];
    });
    box.replaceChildren(S.table([panel.groupby || "group", panel.metric || "value", ""], rows, { class: "report-bars" }));
  }

  function scalar(box, panel, data) {
    box.replaceChildren(el("div", { class: "scalar", text: data.values.length ? fmtNum(data.values[0]) : "—" }),
      el("p", { class: "muted", text: `${panel.metric || ""} over ${data.run_count} runs` }));
  }

  /* Rows carry ["name", x, y] (the run's name first); points sorted by x, one uPlot series of dots. */
  function scatter(box, panel, data) {
    const xi = data.columns.length - 2, yi = data.columns.length - 1;
    const pts = data.rows.map((r) => [r.values[xi], r.values[yi]]).filter(([x, y]) => typeof x === "number" && typeof y === "number"
      && (!panel.log_x || x > 0) && (!panel.log_y || y > 0)).sort((a, b) => a[0] - b[0]);
    if (!pts.length) { runsTable(box, panel, data); return; }
    const chart = el("div", { class: "chart report-chart" });
    box.replaceChildren(chart);
    const width = Math.max(300, box.clientWidth || 500);
    const [xName, yName] = [data.columns[xi], data.columns[yi]];
    new uPlot({ width, height: 240,
      scales: { x: { time: false, distr: panel.log_x ? 3 : 1 }, y: { distr: panel.log_y ? 3 : 1 } },
      axes: [{ label: xName }, { label: yName }],
      series: [{ label: xName }, { label: yName, stroke: Charts.COLORS[0], paths: () => null,
        points: { show: true, size: 7, fill: Charts.COLORS[0] } }] },
      [pts.map((p) => p[0]), pts.map((p) => p[1])], chart);
    chart.dataset.points = String(pts.length);
  }

  /* MediaPanel: each run of the runset that logged the key (at most 12, in the runset's order), its
     values drawn by media.js as on the run page (images with a step slider, Plotly, sandboxed HTML,
     tables, histograms, text). A live refresh redraws only when a run's values changed. */
  function mediaPanel(box, panel, data) {
    const sig = JSON.stringify(data.rows.map((r) => [r.run, r.values]));
    if (box.dataset.sig === sig) return;
    box.dataset.sig = sig;
    const at = (r, name) => r.values[data.columns.indexOf(name)];
    box.replaceChildren(el("p", { class: "muted", text: data.rows.length
      ? `${data.rows.length} run${data.rows.length === 1 ? "" : "s"} of ${data.run_count} logged ${panel.key}`
      : `No run of this panel (${data.run_count}) logged ${panel.key}.` }));
    box.dataset.runs = String(data.rows.length);
    data.rows.forEach((r) => {
      const m = /^entities\/([^/]+)\/projects\/([^/]+)\/runs\/([^/]+)$/.exec(r.run);
      const k = { key: panel.key, type: at(r, "type"), count: at(r, "values") };
      const lo = at(r, "first_step"), hi = at(r, "last_step");
      const sub = el("div", { class: "media-panel report-media", "data-run": r.run, "data-type": k.type },
        el("h5", {}, el("a", { href: S.resourceUrl(r.run) || "#", text: r.display_name || S.shortName(r.run) }),
          el("span", { class: "muted", text: ` ${k.type} · ${k.count} value${k.count === 1 ? "" : "s"} · ${lo === hi ? `step ${lo}` : `steps ${lo}–${hi}`}` })));
      box.appendChild(sub);
      if (!m) return;
      Media.draw(sub, `${S.url.apiProject(m[1], m[2])}/runs/${enc(m[3])}/media`, k).catch((e) => S.showError(sub, e));
    });
  }

  const DRAW = { media_panel: mediaPanel, line_plot: linePlot, runs_table: runsTable, parallel_coordinates: runsTable, bar_plot: barPlot,
    scalar_chart: scalar, scatter_plot: scatter };

  function panelBox(bi, pi, panelSpec) {
    const kind = Object.keys(panelSpec)[0] || "unknown";
    const panel = panelSpec[kind] || {};
    const body = el("div", { class: "panel-body", text: "loading…" });
    const box = el("section", { class: "panel", "data-block": bi, "data-panel": pi, "data-kind": kind },
      el("h4", { text: panel.title || (Array.isArray(panel.y) ? panel.y.join(", ") : "") || panel.key || kind.replace(/_/g, " ") }), body);
    async function load() {
      try {
        const { data } = await api("GET", `${base}/panels/${bi}/${pi}`);
        if (DRAW[kind]) DRAW[kind](body, panel, data);
        else body.replaceChildren(el("p", { class: "muted", text: `${kind.replace(/_/g, " ")}: not drawn in the console yet (${data.run_count} runs)` }));
        box.dataset.live = data.live ? "1" : "";
        box.dataset.loads = String(Number(box.dataset.loads || 0) + 1);
        box.dataset.ready = "1";
        if (data.live) setTimeout(load, LIVE_MS);
      } catch (e) {
        S.showError(body, e);
        box.dataset.ready = "1";
        box.dataset.error = e.reason || "ERROR";
      }
    }
    load();
    return box;
  }

  /* An artifact reference as the spec holds it ("model:staging", "proj/model", "e/p/model:v3" or a resource
     name) -> {entity, project, artifact, selector}. */
  function parseRef(ref) {
    const full = /^entities\/([^/]+)\/projects\/([^/]+)\/artifacts\/([^/:]+)(?:\/versions\/([^/]+)|:([^/]+))?$/.exec(ref);
    if (full) return { entity: full[1], project: full[2], artifact: full[3], selector: full[4] || full[5] || "latest" };
    const [path, selector] = ref.split(":");
    const parts = path.split("/");
    const [entity, project] = parts.length === 3 ? parts : parts.length === 2 ? [page.entity, parts[0]] : [page.entity, page.project];
    return { entity, project, artifact: parts[parts.length - 1], selector: selector || "latest" };
  }

  /* The lineage page needs a version's resource name: an alias is resolved through the artifact's aliases. */
  function lineageBlock(spec) {
    const r = parseRef(spec.artifact || "");
    const label = `${r.artifact}:${r.selector}`;
    const link = el("a", { class: "lineage-link", text: label });
    const box = el("p", { class: "artifact-block" }, "Lineage of ", link);
    const name = `entities/${r.entity}/projects/${r.project}/artifacts/${r.artifact}`;
    if (/^v\d+$/.test(r.selector)) { link.href = S.url.lineage(r.entity, r.project, `${name}/versions/${r.selector}`); return box; }
    api("GET", `${S.url.apiProject(r.entity, r.project)}/artifacts/${enc(r.artifact)}`).then((a) => {
      const held = r.selector === "latest" ? a.artifact.latest_version : (a.aliases.find((x) => x.alias === r.selector) || {}).version;
      if (held) link.href = S.url.lineage(r.entity, r.project, held);
      else box.appendChild(el("span", { class: "muted", text: ` (no version holds ${r.selector})` }));
    }).catch((e) => S.showError(box, e));
    return box;
  }

  function versionsBlock(spec) {
    const r = parseRef(spec.artifact || "");
    return el("p", { class: "artifact-block" }, "Versions and aliases of ",
      el("a", { href: S.url.artifact(r.entity, r.project, r.artifact), class: "artifact-link", text: r.artifact }));
  }

  function block(b, bi) {
    if (b.heading) return el((b.heading.level || 1) <= 1 ? "h2" : "h3", { class: "report-heading", text: b.heading.text || "" });
    if (b.markdown) return typeof b.markdown.html === "string" ? Markdown.fromHtml(b.markdown.html) : Markdown.render(b.markdown.text || "");
    if (b.panel_grid) {
      const grid = el("div", { class: "panel-grid", "data-block": bi });
      (b.panel_grid.panels || []).forEach((p, pi) => grid.appendChild(panelBox(bi, pi, p)));
      return grid;
    }
    if (b.artifact_lineage) return lineageBlock(b.artifact_lineage);
    if (b.artifact_versions) return versionsBlock(b.artifact_versions);
    return el("p", { class: "muted", text: "(a block this console does not draw)" });
  }

  S.projectCrumbs(["reports", reportsUrl], [page.report, null]);
  api("GET", base).then(({ report }) => {
    S.projectCrumbs(["reports", reportsUrl], [report.title || report.id, null]);
    document.getElementById("title").textContent = report.title || report.id;
    document.title = `${report.title || report.id} · Strata`;
    const head = [];
    if (report.description) head.push(el("p", { class: "report-description", text: report.description }));
    head.push(el("p", { class: "muted" }, `revision ${report.revision || 1}`,
      report.update_time ? ` · updated ${report.update_time.replace("T", " ").slice(0, 19)}` : ""));
    content().replaceChildren(...head, ...(report.blocks || []).map((b, bi) => {
      try { return block(b, bi); } catch (e) { const box = el("div"); S.showError(box, e); return box; }  // one bad block only
    }));
    content().dataset.ready = "1";
  }).catch((e) => S.showError(content(), e));
})();

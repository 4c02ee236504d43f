/* A run's media panel: one box per media key. Images in a grid with a step slider; Plotly figures drawn
   by plotly.js (loaded only when a figure is shown); HTML in an iframe with sandbox="" (no script, an
   opaque origin) whose bytes also arrive with a sandboxing CSP; tables sortable and paged, cells set with
   textContent; histograms over steps as a heatmap on a canvas; text as preformatted text; audio and
   video in the browser's players. Counts are
   exposed as data- attributes (data-images, data-step, data-rows, data-steps) for tests and scripts.
   Media.draw(box, base, key) draws one key of any run (base: the run's media API URL); a report's
   MediaPanel uses it for each run of its runset. */
"use strict";
(function () {
  const { el, api, qs, page, fmtNum } = S;
  const TABLE_PAGE = 20;

  /* The drawing functions of one run's media (base: its media API URL; its body is not indented
     further, to keep this change small). */
  function forRun(base) {
  const blobUrl = (v) => `${base}/blob/${v.sha256}${qs({ type: v.type })}`;

  async function allValues(key, pageSize) {
    const out = []; let token = "";
    do {
      const r = await api("GET", `${base}/values${qs({ key, page_size: pageSize || 1000, page_token: token })}`);
      out.push(...r.values); token = r.next_page_token;
    } while (token && out.length < 5000);
    return out;
  }

  /* Values grouped by step, ascending; a slider picks the step (the latest at first). */
  function stepper(box, values, render) {
    const steps = [...new Set(values.map((v) => v.step))].sort((a, b) => a - b);
    const label = el("span", { class: "media-step-label" });
    const body = el("div", { class: "media-body" });
    const show = (i) => {
      const step = steps[i];
      box.dataset.step = String(step);
      label.textContent = `step ${step} (${i + 1} of ${steps.length})`;
      const vals = values.filter((v) => v.step === step).sort((a, b) => a.index - b.index);
      Promise.resolve(render(body, vals, step)).catch((e) => S.showError(body, e));
    };
    const slider = el("input", { type: "range", class: "media-step", min: 0, max: steps.length - 1, step: 1, value: steps.length - 1 });
    slider.addEventListener("input", () => show(Number(slider.value)));
    if (steps.length > 1) box.append(el("div", { class: "media-controls" }, slider, label));
    else box.append(el("div", { class: "media-controls" }, label));
    box.append(body);
    box.dataset.steps = String(steps.length);
    show(steps.length - 1);
  }

  function images(box, values) {
    stepper(box, values, (body, vals) => {
      box.dataset.images = String(vals.length);
      body.replaceChildren(el("div", { class: "image-grid" }, vals.map((v) => {
        const m = v.metadata || {};
        return el("figure", {},
          el("img", { src: blobUrl(v), alt: m.caption || `${v.key} ${v.step}/${v.index}`, loading: "lazy" }),
          m.caption ? el("figcaption", { text: m.caption }) : "");
      })));
    });
  }

  /* plotly.js injects its stylesheets as inline <style> elements, which the CSP (style-src 'self')
     blocks; it skips them when elements with their ids exist, so the same rules come as files. */
  const PLOTLY_STYLES = [
    { id: "plotly.js-style-global", class: "no-inline-styles", href: "/static/vendor/plotly.css" },
    { id: "9f215cf04c5486422605d13261cb87401f4e7763b6296af81e98efbc0130da53", href: "/static/vendor/plotly-maplibre.css" },
  ];
  let plotlyLoading = null;
  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyLoading) {
      PLOTLY_STYLES.forEach((a) => document.head.appendChild(el("link", Object.assign({ rel: "stylesheet" }, a))));
      plotlyLoading = new Promise((resolve, reject) => {
        const s = el("script", { src: "/static/vendor/plotly-strict.min.js" });
        s.addEventListener("load", () => resolve(window.Plotly));
        s.addEventListener("error", () => reject(new Error("plotly.js failed to load")));
        document.head.appendChild(s);
      });
    }
    return plotlyLoading;
  }

  async function fetchBlob(v, as) {
    const resp = await fetch(blobUrl(v), { credentials: "same-origin" });
    if (!resp.ok) throw new S.ApiError(resp.status, await resp.json().catch(() => null));
    return as === "json" ? resp.json() : resp.text();
  }

  function plotly(box, values) {
    stepper(box, values, async (body, vals) => {
      body.replaceChildren();
      const [Plotly, ...figs] = await Promise.all([loadPlotly(), ...vals.map((v) => fetchBlob(v, "json"))]);
      figs.forEach((fig) => {
        const div = el("div", { class: "plotly-figure" });
        body.appendChild(div);
        const layout = Object.assign({ height: 360 }, fig.layout || {}, { autosize: true });
        Plotly.newPlot(div, fig.data || [], layout, { displaylogo: false, responsive: true });
      });
      box.dataset.ready = "1";
    });
  }

  function html(box, values) {
    stepper(box, values, (body, vals) => {
      body.replaceChildren(...vals.map((v) =>
        el("iframe", { class: "media-html", sandbox: "", referrerpolicy: "no-referrer", src: blobUrl(v), title: `${v.key} step ${v.step}` })));
    });
  }

  function text(box, values) {
    stepper(box, values, async (body, vals) => {
      const texts = await Promise.all(vals.map((v) => fetchBlob(v, "text")));
      body.replaceChildren(...texts.map((t) => el("pre", { class: "media-text", text: t })));
    });
  }

  /* A table: click a header to sort (again to flip), pages of TABLE_PAGE rows. */
  function tableView(holder, t) {
    const names = t.columns.map((c) => c.name);
    const rows = Array.from({ length: t.rows }, (_, r) => t.columns.map((c) => c.values[r]));
    const state = { col: -1, desc: false, page: 0 };
    const cmp = (a, b) => {
      if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
      if (b === null || b === undefined) return -1;
      if (typeof a === "number" && typeof b === "number") return a - b;
      return String(a).localeCompare(String(b));
    };
    const draw = () => {
      const sorted = state.col < 0 ? rows : [...rows].sort((a, b) => {
        const c = cmp(a[state.col], b[state.col]);
        return state.desc && a[state.col] != null && b[state.col] != null ? -c : c;
      });
      const pages = Math.max(1, Math.ceil(sorted.length / TABLE_PAGE));
      state.page = Math.min(state.page, pages - 1);
      const shown = sorted.slice(state.page * TABLE_PAGE, (state.page + 1) * TABLE_PAGE);
      const head = names.map((n, i) => el("th", {
        class: "sortable", "data-col": i, text: n + (i === state.col ? (state.desc ? " ▼" : " ▲") : ""),
        onclick: () => { state.desc = state.col === i ? !state.desc : false; state.col = i; draw(); },
      }));
      const prev = el("button", { class: "table-prev", text: "‹ prev", disabled: state.page === 0, onclick: () => { state.page--; draw(); } });
      const next = el("button", { class: "table-next", text: "next ›", disabled: state.page >= pages - 1, onclick: () => { state.page++; draw(); } });
      holder.replaceChildren(
        el("table", { class: "media-table" }, el("thead", {}, el("tr", {}, head)),
          el("tbody", {}, shown.map((r) => el("tr", {}, r.map((c) => el("td", { text: c === null || c === undefined ? "" : (typeof c === "number" ? fmtNum(c) : String(c)) })))))),
        el("div", { class: "pager" }, prev, el("span", { class: "muted", text: ` page ${state.page + 1} of ${pages} · ${t.rows} rows ` }), next));
    };
    draw();
  }

  function tables(box, values) {
    stepper(box, values.filter((v) => v.index === 0), async (body, vals, step) => {
      const t = await api("GET", `${base}/table${qs({ key: box.dataset.key, step })}`);
      box.dataset.rows = String(t.rows);
      const holder = el("div", {});
      body.replaceChildren(holder);
      tableView(holder, t);
    });
  }

  /* Histograms over steps: x = step, y = value (bins rebinned onto one grid), colour = count. */
  function histograms(box, values) {
    const hs = values.filter((v) => v.metadata && Array.isArray(v.metadata.counts)).sort((a, b) => a.step - b.step || a.index - b.index);
    box.dataset.steps = String(new Set(hs.map((v) => v.step)).size);
    if (!hs.length) { box.append(el("p", { class: "muted", text: "no histograms" })); return; }
    const lo = Math.min(...hs.map((h) => h.metadata.edges[0]));
    const hi = Math.max(...hs.map((h) => h.metadata.edges[h.metadata.edges.length - 1]));
    const rows = 64, cols = hs.length, grid = hs.map(() => new Float64Array(rows));
    const span = hi - lo || 1;
    hs.forEach((h, x) => {
      const { counts, edges } = h.metadata;
      counts.forEach((c, i) => {  // spread each bin over the rows it overlaps, by the overlap
        const a = ((edges[i] - lo) / span) * rows, b = ((edges[i + 1] - lo) / span) * rows;
        if (!(b > a)) { grid[x][Math.min(rows - 1, Math.max(0, Math.floor(a)))] += c; return; }
        for (let r = Math.max(0, Math.floor(a)); r < Math.min(rows, Math.ceil(b)); r++) {
          grid[x][r] += (c * (Math.min(b, r + 1) - Math.max(a, r))) / (b - a);
        }
      });
    });
    const max = Math.max(1, ...grid.map((g) => Math.max(...g)));
    const canvas = el("canvas", { class: "histogram-heatmap", width: 640, height: 240, "data-steps": String(cols) });
    const ctx = canvas.getContext("2d");
    const cw = canvas.width / cols, rh = canvas.height / rows;
    grid.forEach((g, x) => g.forEach((c, y) => {
      if (!c) return;
      const a = Math.sqrt(c / max);
      ctx.fillStyle = `rgba(31,119,180,${a.toFixed(3)})`;
      ctx.fillRect(x * cw, canvas.height - (y + 1) * rh, Math.ceil(cw), Math.ceil(rh));
    }));
    box.append(canvas, el("div", { class: "muted heatmap-axes",
      text: `x: step ${hs[0].step} … ${hs[hs.length - 1].step} · y: ${fmtNum(lo)} … ${fmtNum(hi)} · darker = more` }));
  }

  /* Audio and video play from the console's own origin (the bytes' type told by their first bytes);
     a GIF made from frames is shown as an image. */
  function players(kind) {
    return (box, values) => stepper(box, values, (body, vals) => {
      body.replaceChildren(el("div", { class: "media-av" }, vals.map((v) => {
        const m = v.metadata || {};
        const label = m.caption || `${v.key} step ${v.step}`;
        const player = kind === "video" && m.format === "gif"
          ? el("img", { src: blobUrl(v), alt: label })
          : el(kind, { controls: true, preload: "metadata", src: blobUrl(v), title: label });
        return el("figure", {}, player, m.caption ? el("figcaption", { text: m.caption }) : "");
      })));
      box.dataset.ready = "1";
    });
  }

  const RENDER = { image: images, plotly, html, text, table: tables, histogram: histograms, audio: players("audio"), video: players("video") };
  return async (box, k) => (RENDER[k.type] || text)(box, await allValues(k.key));
  }  // forRun

  /* Draw key k ({key, type}) of the run whose media API is at `base` into box (its data-key is set). */
  function draw(box, base, k) {
    box.dataset.key = k.key;
    return forRun(base)(box, k);
  }
  window.Media = { draw };
  if (!page.run) return;  // a page that only draws media for others (a report)

  const base = `${S.url.apiProject(page.entity, page.project)}/runs/${encodeURIComponent(page.run)}/media`;
  const section = el("section", { id: "media" });
  const ORDER = ["image", "video", "plotly", "histogram", "audio", "table", "html", "text"];  // panels: pictures first

  async function panel(k) {
    const box = el("div", { class: "media-panel", "data-key": k.key, "data-type": k.type, "data-count": k.count });
    const steps = k.first_step === k.last_step ? `step ${k.first_step}` : `steps ${k.first_step}–${k.last_step}`;
    box.append(el("h3", {}, el("code", { text: k.key }),
      el("span", { class: "muted", text: ` ${k.type} · ${k.count} value${k.count === 1 ? "" : "s"} · ${steps}` })));
    section.appendChild(box);
    try {
      await draw(box, base, k);
    } catch (e) { S.showError(box, e); }
  }

  (async () => {
    const anchor = document.getElementById("artifacts");
    if (anchor) anchor.before(section); else S.content().appendChild(section);
    try {
      const { keys } = await api("GET", base);
      if (keys.length) section.append(el("h2", { text: "Media" }));
      keys.sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type) || (a.key < b.key ? -1 : 1));
      await Promise.all(keys.map(panel));
    } catch (e) { S.showError(section, e); }
    section.dataset.ready = "1";
  })();
})();

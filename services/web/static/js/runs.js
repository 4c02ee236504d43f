/* The runs table: filter box (Mongo-style, same as Api().runs), quick filters, columns from attributes,
   config and summary, sort by any column, cursor paging, match count, live states, select to compare. */
"use strict";
(function () {
  const { el, api, qs, url, fmtValue, fmtTime, content, page } = S;
  const base = S.url.apiProject(page.entity, page.project);
  S.projectCrumbs(["runs", null]);
  const params = new URLSearchParams(location.search);
  const state = {
    filter: params.get("filter") || "",
    quick: { state: params.get("state") || "", job_type: params.get("job_type") || "", group: params.get("group") || "",
             tag: params.get("tag") || "", user: params.get("user") || "" },
    order: params.get("order") || "-created_at",
    tokens: [""], pageIndex: 0, runs: [], selected: new Set(), columns: null, chosen: false, timer: null, seq: 0, countSeq: 0,
  };
  const ATTRS = [["display_name", "name"], ["state", "state"], ["job_type", "job type"], ["group", "group"],
                 ["user", "user"], ["tags", "tags"], ["created_at", "created"]];

  const filterBox = el("input", { id: "filter", class: "filter", value: state.filter, size: 70,
    placeholder: '{"config.lr": {"$gt": 0.0001}, "state": "finished"}' });
  const filterError = el("span", { id: "filter-error", class: "error", role: "alert" });
  const quick = {};
  const quickBar = el("div", { class: "quick" });
  for (const key of Object.keys(state.quick)) {
    const input = key === "state"
      ? el("select", { id: `q-${key}` }, ["", "running", "finished", "failed", "killed", "crashed"].map((s) =>
          el("option", { value: s, text: s || "any state", selected: s === state.quick.state })))
      : el("input", { id: `q-${key}`, size: 10, placeholder: key.replace("_", " "), value: state.quick[key] });
    quick[key] = input;
    quickBar.appendChild(el("label", {}, input));
  }
  const apply = el("button", { id: "apply", text: "Apply" });
  const count = el("span", { id: "match-count", class: "count" });
  const exactBtn = el("button", { id: "count-exactly", text: "count exactly", hidden: true,
    title: "The count above is estimated from a sample; count every matching run" });
  const table = el("table", { id: "runs-table", class: "runs" });
  const prev = el("button", { id: "prev", text: "◀ Prev" });
  const next = el("button", { id: "next", text: "Next ▶" });
  const compareBtn = el("button", { id: "compare", text: "Compare selected" });
  const groupBy = el("input", { id: "group-by", size: 16, placeholder: "group by, e.g. config.lr" });
  const columnsBox = el("details", { class: "columns" }, el("summary", { text: "Columns" }));

  const form = el("form", { id: "filter-form" }, filterBox, " ", apply, " ", filterError, quickBar);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); readControls(); reload(); });
  content().append(form, el("div", { class: "bar" }, count, " ", exactBtn, " ", columnsBox, " ", groupBy, " ", compareBtn,
    el("a", { href: url.artifacts(page.entity, page.project), text: "Artifacts" }), " ",
    el("a", { href: `${url.project(page.entity, page.project)}/reports`, id: "reports-link", text: "Reports" })), table,
    el("div", { class: "pager" }, prev, " ", next));

  function readControls() {
    state.filter = filterBox.value.trim();
    for (const k of Object.keys(quick)) state.quick[k] = quick[k].value.trim();
  }
  function query(extra) {
    return qs({ filter: state.filter, order: state.order, ...state.quick, ...extra });
  }
  function remember() {
    history.replaceState(null, "", location.pathname + qs({ filter: state.filter, order: state.order === "-created_at" ? "" : state.order, ...state.quick }));
  }

  async function reload() {
    state.tokens = [""]; state.pageIndex = 0; remember();
    filterError.textContent = ""; filterBox.classList.remove("bad");
    const counting = countRuns(true);
    await loadPage();
    await counting;
  }

  /* The match count: a fast estimate first (shown as "≈ N", with a "count exactly" action), exact on demand. */
  function countRuns(estimate) {
    count.textContent = "counting…"; exactBtn.hidden = true;
    const mine = ++state.countSeq;
    return api("GET", `${base}/runs-count${query({ estimate: estimate ? "true" : "" })}`)
      .then((r) => {
        if (mine !== state.countSeq) return;
        count.textContent = `${r.estimated ? "≈ " : ""}${r.count.toLocaleString("en-US")} runs match`;
        count.dataset.count = r.count; count.dataset.estimated = r.estimated ? "true" : "false";
        exactBtn.hidden = !r.estimated;
      })
      .catch(() => { count.textContent = ""; });
  }
  exactBtn.addEventListener("click", () => countRuns(false));

  async function loadPage() {
    const seq = ++state.seq;  // an older answer arriving late must not overwrite a newer one
    try {
      const r = await api("GET", `${base}/runs${query({ page_token: state.tokens[state.pageIndex], page_size: 50 })}`);
      if (seq !== state.seq) return;
      if (state.pageIndex === 0 && !state.chosen) state.columns = null;
      state.runs = r.runs;
      state.tokens[state.pageIndex + 1] = r.next_page_token;
      render();
      schedule();
    } catch (e) {
      if (e.reason === "INVALID_FILTER" || e.reason === "INVALID_ORDER" || e.field === "filter") {
        filterError.textContent = `${e.reason}: ${e.message}`;
        filterBox.classList.add("bad");
        count.textContent = ""; exactBtn.hidden = true;
        table.replaceChildren();
      } else S.showError(filterError, e);
    }
  }

  /* Default columns: the first config and summary keys of the runs shown (until the user picks some). */
  function discoverColumns() {
    if (state.chosen || state.columns) return;
    const config = new Set(), summary = new Set();
    for (const r of state.runs) {
      Object.keys(S.flatten(r.config)).forEach((k) => config.add(k));
      Object.keys(r.summary).forEach((k) => summary.add(k));
    }
    state.columns = [...[...config].sort().slice(0, 4).map((k) => `config.${k}`), ...[...summary].sort().slice(0, 4).map((k) => `summary.${k}`)];
    const all = [...[...config].sort().map((k) => `config.${k}`), ...[...summary].sort().map((k) => `summary.${k}`)];
    columnsBox.replaceChildren(el("summary", { text: "Columns" }), ...all.map((c) => {
      const box = el("input", { type: "checkbox", checked: state.columns.includes(c) });
      box.addEventListener("change", () => {
        state.chosen = true;
        state.columns = box.checked ? [...state.columns, c] : state.columns.filter((x) => x !== c);
        render();
      });
      return el("label", { class: "col" }, box, c);
    }));
  }

  function cell(r, col) {
    if (col.startsWith("config.")) return fmtValue(S.flatten(r.config)[col.slice(7)]);
    if (col.startsWith("summary.")) { const s = r.summary[col.slice(8)]; return s ? fmtValue(s.last) : ""; }
    return "";
  }
  function header(col, label) {
    const dir = state.order === col ? "+" : state.order === `-${col}` ? "-" : "";
    const th = el("th", { class: "sortable", "data-col": col, title: "sort" }, label, dir ? (dir === "+" ? " ▲" : " ▼") : "");
    th.addEventListener("click", () => { state.order = state.order === `-${col}` ? col : `-${col}`; reload(); });
    return th;
  }

  function render() {
    discoverColumns();
    const head = el("tr", {}, el("th", {}), ATTRS.map(([c, l]) => header(c, l)), state.columns.map((c) => header(c, c)));
    const rows = state.runs.map((r) => {
      const box = el("input", { type: "checkbox", class: "select", "data-run": r.id, checked: state.selected.has(r.id) });
      box.addEventListener("change", () => { box.checked ? state.selected.add(r.id) : state.selected.delete(r.id); });
      return el("tr", { "data-run": r.id, "data-job-type": r.job_type },
        el("td", {}, box),
        el("td", {}, el("a", { href: url.run(page.entity, page.project, r.id), class: "run-link", text: r.display_name || r.id })),
        el("td", {}, el("span", { class: `state ${r.state}`, text: r.state })),
        el("td", { text: r.job_type }), el("td", { text: r.group }), el("td", { text: r.user }),
        el("td", {}, r.tags.map((t) => el("span", { class: "tag", text: t }))),
        el("td", { class: "nowrap", text: fmtTime(r.create_time) }),
        state.columns.map((c) => el("td", { class: "num", text: cell(r, c) })));
    });
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
    prev.disabled = state.pageIndex === 0;
    next.disabled = !state.tokens[state.pageIndex + 1];
  }

  function schedule() {  // live states: poll while a shown run is running
    clearTimeout(state.timer);
    if (state.runs.some((r) => r.state === "running")) state.timer = setTimeout(loadPage, 5000);
  }

  prev.addEventListener("click", () => { if (state.pageIndex > 0) { state.pageIndex--; loadPage(); } });
  next.addEventListener("click", () => { if (state.tokens[state.pageIndex + 1]) { state.pageIndex++; loadPage(); } });
  compareBtn.addEventListener("click", () => {
    const ids = [...state.selected];
    if (!ids.length) return;
    location.assign(`/p/${encodeURIComponent(page.entity)}/${encodeURIComponent(page.project)}/compare` +
      qs({ runs: ids.join(","), group_by: groupBy.value.trim() }));
  });
  reload();
})();

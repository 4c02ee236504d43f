/* One artifact version: metadata, description, aliases, a file tree with sizes and download links
   (streamed from the registry), logged by, used by; links to its lineage, impact and a diff. A table
   stored as `<name>.table.json` (artifact.add(table, name)) has a "view" button that shows its first
   rows, cells set as text. */
"use strict";
(function () {
  const { el, api, content, page, url, fmtSize, fmtTime, kv, qs } = S;
  const art = `${S.url.apiProject(page.entity, page.project)}/artifacts/${encodeURIComponent(page.artifact)}`;
  const base = `${art}/versions/${encodeURIComponent(page.version)}`;
  S.projectCrumbs(["artifacts", url.artifacts(page.entity, page.project)], [page.artifact, url.artifact(page.entity, page.project, page.artifact)], [page.version, null]);

  const fileUrl = (path) => `${base}/file${qs({ path })}`;
  const VIEW_ROWS = 100, VIEW_MAX_BYTES = 20 * 1024 * 1024;

  /* JSON as Python's json module writes it: bare NaN / Infinity / -Infinity (W&B's table files hold
     them) become strings; the same words inside strings are left alone. */
  function parseLoose(text) {
    try { return JSON.parse(text); } catch (e) { /* quote the bare tokens and try again */ }
    return JSON.parse(text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => (m[0] === '"' ? m : `"${m}"`)));
  }

  /* A cell: a rich value ({_type, path}) links to its file; other objects as JSON; null as empty. */
  function cell(c) {
    if (c && typeof c === "object" && typeof c._type === "string" && typeof c.path === "string")
      return el("td", {}, `${c._type.replace(/-file$/, "")}: `, el("a", { href: fileUrl(c.path), text: c.path }));
    return el("td", { text: c === null || c === undefined ? "" : typeof c === "object" ? JSON.stringify(c) : String(c) });
  }

  async function showTable(path) {
    let box = document.getElementById("table-view");
    if (!box) { box = el("section", { id: "table-view" }); content().append(box); }
    const head = el("h2", {}, "Table ", el("code", { text: path }));
    box.removeAttribute("data-rows");
    box.replaceChildren(head, el("p", { class: "muted", text: "loading…" }));
    try {
      const resp = await fetch(fileUrl(path), { credentials: "same-origin" });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const doc = parseLoose(await resp.text());
      const cols = Array.isArray(doc.columns) ? doc.columns : [], rows = Array.isArray(doc.data) ? doc.data : [];
      const shown = rows.slice(0, VIEW_ROWS);
      box.replaceChildren(head,
        el("table", { class: "media-table" }, el("thead", {}, el("tr", {}, cols.map((c) => el("th", { text: String(c) })))),
          el("tbody", {}, shown.map((r) => el("tr", {}, (Array.isArray(r) ? r : []).map(cell))))),
        el("p", { class: "muted", text: `${shown.length} of ${rows.length} rows` + (rows.length > shown.length ? " (download the file for all)" : "") }));
      box.dataset.rows = String(rows.length);
      box.scrollIntoView();
    } catch (e) { S.showError(box, e); }
  }

  function tree(files) {
    const root = { dirs: {}, files: [] };
    files.forEach((f) => {
      const parts = f.path.split("/"); let node = root;
      parts.slice(0, -1).forEach((p) => { node = node.dirs[p] = node.dirs[p] || { dirs: {}, files: [] }; });
      node.files.push({ ...f, base: parts[parts.length - 1] });
    });
    const size = (n) => n.files.reduce((s, f) => s + Math.max(0, f.size), 0) + Object.values(n.dirs).reduce((s, d) => s + size(d), 0);
    const render = (n) => el("ul", {},
      Object.keys(n.dirs).sort().map((d) => el("li", {}, el("details", { open: true }, el("summary", {}, `${d}/`, el("span", { class: "size", text: fmtSize(size(n.dirs[d])) })), render(n.dirs[d])))),
      n.files.sort((a, b) => a.base.localeCompare(b.base)).map((f) => el("li", { class: "file", "data-path": f.path },
        f.reference ? el("span", { text: `${f.base} → ${f.reference}` }) : el("a", { href: fileUrl(f.path), download: f.base, text: f.base }),
        el("span", { class: "size", text: fmtSize(f.size) }),
        !f.reference && f.path.endsWith(".table.json") && f.size <= VIEW_MAX_BYTES
          ? el("button", { class: "table-view-button", "data-path": f.path, text: "view", onclick: () => showTable(f.path) }) : "")));
    return el("div", { class: "tree", id: "file-tree" }, render(root));
  }

  api("GET", base).then((r) => {
    const v = r.version;
    const prev = v.version > 0 ? `${url.artifact(page.entity, page.project, page.artifact)}/diff${qs({ old: `v${v.version - 1}`, new: `v${v.version}` })}` : null;
    content().append(
      el("p", {}, el("span", { class: "tag", text: v.type }), " ", v.aliases.map((a) => el("span", { class: "tag alias", text: a })),
        ` · ${v.file_count} files · ${fmtSize(v.total_size)} · committed ${fmtTime(v.commit_time)} by ${v.author.replace(/^entities\//, "")}`),
      v.description ? el("p", { class: "notes", id: "version-description", text: v.description }) : "",
      el("p", {}, el("a", { id: "lineage-link", href: url.lineage(page.entity, page.project, v.name), text: "Lineage graph" }), " · ",
        el("a", { id: "impact-link", href: url.impact(page.entity, page.project, v.name), text: "Impact" }),
        prev ? [" · ", el("a", { id: "diff-link", href: prev, text: `What changed since v${v.version - 1}` })] : ""),
      el("div", { class: "cols" },
        el("div", {}, el("h2", { text: "Metadata" }), el("div", { id: "version-metadata" }, kv(S.flatten(v.metadata)))),
        el("div", {}, el("h2", { text: "Logged by" }),
          v.producer_run ? el("p", {}, el("a", { id: "logged-by", href: S.resourceUrl(v.producer_run), text: S.shortName(v.producer_run) })) : el("p", { class: "muted", text: "outside a run" }),
          el("h2", { text: "Used by" }),
          el("ul", { id: "used-by" }, r.used_by.map((n) => el("li", {}, el("a", { href: S.resourceUrl(n.name) || "#", text: n.label || S.shortName(n.name) }), n.job_type ? ` (${n.job_type})` : ""))))),
      el("h2", { text: "Files" }), tree(r.files));
  }).catch((e) => S.showError(content(), e));
})();

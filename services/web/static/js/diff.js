/* What changed between two versions of an artifact: files, metadata, upstream inputs (down to where a
   change started) and the producing runs' config: "why did accuracy drop in v12?" on one page. */
"use strict";
(function () {
  const { el, api, content, page, url, table, qs, fmtSize } = S;
  const art = `${S.url.apiProject(page.entity, page.project)}/artifacts/${encodeURIComponent(page.artifact)}`;
  S.projectCrumbs(["artifacts", url.artifacts(page.entity, page.project)], [page.artifact, url.artifact(page.entity, page.project, page.artifact)], ["diff", null]);
  const params = new URLSearchParams(location.search);
  const oldSel = el("select", { id: "diff-old" }), newSel = el("select", { id: "diff-new" });
  const out = el("div", { id: "diff" });
  const form = el("form", { class: "inline" }, "from ", oldSel, " to ", newSel, el("button", { type: "submit", text: "Compare" }));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); location.assign(location.pathname + qs({ old: oldSel.value, new: newSel.value })); });
  content().append(form, out);
  const short = (v) => (v ? S.shortName(v) : "—");
  const val = (j) => (j === "" ? "—" : j);

  (async () => {
    const a = await api("GET", art);
    const names = a.versions.map((v) => `v${v.version}`);
    const o = params.get("old") || names[1] || names[0], n = params.get("new") || names[0];
    names.forEach((v) => { oldSel.appendChild(el("option", { value: v, text: v, selected: v === o })); newSel.appendChild(el("option", { value: v, text: v, selected: v === n })); });
    if (!o || !n) return;
    const d = await api("GET", `${art}/diff${qs({ old: o, new: n })}`);
    out.append(
      el("p", { id: "diff-counts" }, `${d.files_added} added · ${d.files_removed} removed · ${d.files_changed} changed`),
      el("h2", { text: "Upstream inputs" }),
      d.inputs.length ? table(["artifact", o, n, "hops", ""], d.inputs.map((c) => [S.shortName(c.artifact), short(c.old_version), short(c.new_version), String(c.depth), c.origin ? el("strong", { text: "change starts here" }) : "inherited"]), { id: "diff-inputs" }) : el("p", { class: "muted", text: "same inputs" }),
      el("h2", { text: "Producing runs' config" }),
      el("p", {}, d.old_producer_run ? el("a", { href: S.resourceUrl(d.old_producer_run), text: S.shortName(d.old_producer_run) }) : "?", " → ",
        d.new_producer_run ? el("a", { href: S.resourceUrl(d.new_producer_run), text: S.shortName(d.new_producer_run) }) : "?"),
      d.config.length ? table(["config key", o, n], d.config.map((c) => [el("code", { text: c.key }), val(c.old), val(c.new)]), { id: "diff-config" }) : el("p", { class: "muted", text: "no config differences (or a producing run is unknown)" }),
      el("h2", { text: "Metadata" }),
      d.metadata.length ? table(["key", o, n], d.metadata.map((c) => [el("code", { text: c.key }), val(c.old), val(c.new)]), { id: "diff-metadata" }) : el("p", { class: "muted", text: "same metadata" }),
      el("h2", { text: "Files" }),
      d.files.length ? table(["path", "change", "old size", "new size"], d.files.map((f) => [f.path, el("span", { class: f.change, text: f.change }), fmtSize(f.old_size), fmtSize(f.new_size)]), { id: "diff-files" }) : el("p", { class: "muted", text: "same files" }),
      d.files_truncated ? el("p", { class: "muted", text: "(file list cut; counts cover every change)" }) : "");
  })().catch((e) => S.showError(out, e));
})();

/* One artifact version: metadata, description, aliases, a file tree with sizes and download links
   (streamed from the registry), logged by, used by; links to its lineage, impact and a diff. */
"use strict";
(function () {
  const { el, api, content, page, url, fmtSize, fmtTime, kv, qs } = S;
  const art = `${S.url.apiProject(page.entity, page.project)}/artifacts/${encodeURIComponent(page.artifact)}`;
  const base = `${art}/versions/${encodeURIComponent(page.version)}`;
  S.projectCrumbs(["artifacts", url.artifacts(page.entity, page.project)], [page.artifact, url.artifact(page.entity, page.project, page.artifact)], [page.version, null]);

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
        f.reference ? el("span", { text: `${f.base} → ${f.reference}` }) : el("a", { href: `${base}/file${qs({ path: f.path })}`, download: f.base, text: f.base }),
        el("span", { class: "size", text: fmtSize(f.size) }))));
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

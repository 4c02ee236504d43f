/* Impact: everything downstream of a version (or run): counts, then the affected versions and runs
   page by page. */
"use strict";
(function () {
  const { el, api, content, page, qs, url, table } = S;
  S.projectCrumbs(["impact", null]);
  const counts = el("p", { id: "impact-counts" });
  const body = el("tbody");
  const more = el("button", { id: "impact-more", text: "More", hidden: true });
  content().append(el("p", {}, "Downstream of ", el("a", { href: S.resourceUrl(page.node) || "#", text: S.shortName(page.node) }), " · ",
    el("a", { href: url.lineage(page.entity, page.project, page.node), text: "graph" })), counts,
    el("table", { id: "impact-table" }, el("thead", {}, el("tr", {}, ["node", "kind", "type", "state", "hops"].map((h) => el("th", { text: h })))), body), more);
  let offset = 0;
  async function load() {
    try {
      const r = await api("GET", `/api/v1/impact${qs({ node: page.node, offset, page_size: 200 })}`);
      counts.textContent = `${r.version_count} versions and ${r.run_count} runs downstream${r.truncated ? " (cut at the server's limit)" : ""}`;
      r.nodes.forEach((n) => body.appendChild(el("tr", {}, el("td", {}, el("a", { href: S.resourceUrl(n.name) || "#", text: n.label || S.shortName(n.name) })),
        el("td", { text: n.kind || "" }), el("td", { text: n.artifact_type || n.job_type || "" }), el("td", { text: n.state || "" }), el("td", { text: n.depth ?? "" }))));
      offset = r.next_offset; more.hidden = offset === null;
    } catch (e) { S.showError(counts, e); }
  }
  more.addEventListener("click", load);
  load();
})();

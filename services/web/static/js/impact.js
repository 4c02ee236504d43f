/* Impact: everything downstream of a version (or run), page by page in breadth-first order, as the
   lineage service pages it (the first page costs only the first hops); counts grow with each page. */
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
  const pageSize = new URLSearchParams(location.search).get("page_size") || 200;
  const seen = { versions: 0, runs: 0, token: "" };
  async function load() {
    more.disabled = true;
    try {
      const r = await api("GET", `/api/v1/impact${qs({ node: page.node, page_token: seen.token, page_size: pageSize })}`);
      seen.versions += r.version_count; seen.runs += r.run_count; seen.token = r.next_page_token || "";
      const upTo = seen.token ? " so far (nearest first; More loads the next page)" : "";
      counts.textContent = `${seen.versions} versions and ${seen.runs} runs downstream${upTo}${r.truncated ? " (cut at the server's limit)" : ""}`;
      counts.dataset.complete = seen.token ? "false" : "true";
      r.nodes.forEach((n) => body.appendChild(el("tr", {}, el("td", {}, el("a", { href: S.resourceUrl(n.name) || "#", text: n.label || S.shortName(n.name) })),
        el("td", { text: n.kind || "" }), el("td", { text: n.artifact_type || n.job_type || "" }), el("td", { text: n.state || "" }), el("td", { text: n.depth ?? "" }))));
      more.hidden = !seen.token;
    } catch (e) { S.showError(counts, e); }
    more.disabled = false;
  }
  more.addEventListener("click", load);
  load();
})();

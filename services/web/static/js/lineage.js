/* The lineage graph of a run or version (upstream and downstream), laid out by dagre in cytoscape.
   Clicking a node opens its page. Labels are drawn on a canvas (no HTML). */
"use strict";
(function () {
  const { el, api, content, page, qs, url } = S;
  const node = page.node;
  S.projectCrumbs(["lineage", null]);
  const depth = el("select", { id: "lineage-depth" }, [1, 2, 3, 5, 10, 20].map((d) => el("option", { value: d, text: `${d} hops`, selected: d === 5 })));
  const dir = el("select", { id: "lineage-direction" }, [["both", "both ways"], ["upstream", "upstream"], ["downstream", "downstream"]].map(([v, l]) => el("option", { value: v, text: l })));
  const graphBox = el("div", { id: "graph" });
  const status = el("p", { id: "lineage-status", class: "muted" });
  const list = el("ul", { id: "lineage-nodes", class: "muted" });
  content().append(el("form", { class: "inline" }, el("span", { text: S.shortName(node) }), depth, dir,
    el("a", { href: url.impact(page.entity, page.project, node), text: "Impact view" })), status, graphBox,
    el("details", {}, el("summary", { text: "Nodes as a list" }), list));
  if (typeof cytoscape !== "undefined" && typeof cytoscapeDagre !== "undefined") cytoscape.use(cytoscapeDagre);
  // cytoscape injects a <style> element unless one with this id exists; the CSP forbids inline styles, so the
  // rule it would add lives in app.css and a placeholder carries the id.
  if (!document.getElementById("__________cytoscape_stylesheet")) document.head.appendChild(el("meta", { id: "__________cytoscape_stylesheet" }));

  async function draw() {
    status.textContent = "loading…";
    try {
      const g = await api("GET", `/api/v1/lineage${qs({ node, depth: depth.value, direction: dir.value })}`);
      status.textContent = `${g.nodes.length} nodes, ${g.edges.length} edges${g.truncated ? " (cut short: raise the limits)" : ""} · click a node to open it`;
      const elements = [
        ...g.nodes.map((n) => ({ data: { id: n.name, label: n.kind === "run" ? `${n.label || S.shortName(n.name)}\n(${n.job_type || "run"})` : `${n.label}\n(${n.artifact_type})`,
          kind: n.kind, root: n.name === g.root ? 1 : 0, state: n.state } })),
        ...g.edges.map((e) => ({ data: { id: `${e.source}->${e.target}`, source: e.source, target: e.target, kind: e.kind } })),
      ];
      const cy = cytoscape({
        container: graphBox, elements, wheelSensitivity: 0.3,
        layout: { name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 80 },
        style: [
          { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "font-size": 11, "text-valign": "center", "text-halign": "center", width: 150, height: 44, "background-color": "#e6effc", "border-width": 1, "border-color": "#7ea2d8" } },
          { selector: "node[kind = 'run']", style: { shape: "round-rectangle", "background-color": "#fff1d6", "border-color": "#d8a64a" } },
          { selector: "node[kind = 'version']", style: { shape: "rectangle" } },
          { selector: "node[root = 1]", style: { "border-width": 3, "border-color": "#1f6feb" } },
          { selector: "node[state = 'deleted']", style: { opacity: 0.5 } },
          { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1" } },
          { selector: "edge[kind = 'used']", style: { "line-style": "dashed" } },
        ],
      });
      cy.on("tap", "node", (ev) => { const href = S.resourceUrl(ev.target.id()); if (href) location.assign(href); });
      cy.fit(undefined, 30);
      window.strataGraph = cy;
      graphBox.dataset.nodes = String(g.nodes.length);
      graphBox.dataset.labels = JSON.stringify(g.nodes.map((n) => n.label));
      list.replaceChildren(...g.nodes.map((n) => el("li", { "data-name": n.name }, el("a", { href: S.resourceUrl(n.name) || "#", text: n.label || S.shortName(n.name) }), ` — ${n.kind}${n.artifact_type ? " " + n.artifact_type : ""}${n.job_type ? " " + n.job_type : ""}`)));
    } catch (e) { S.showError(status, e); }
  }
  depth.addEventListener("change", draw); dir.addEventListener("change", draw);
  draw();
})();

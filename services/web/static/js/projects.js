/* Projects of the caller's entities and teams. */
"use strict";
(function () {
  const { el, api, url, content, table, fmtTime } = S;
  S.crumbs(["projects", null]);
  api("GET", "/api/v1/projects").then(({ projects }) => {
    if (!projects.length) { content().appendChild(el("p", { class: "muted", text: "No projects yet: log a run with strata.init(project=...)." })); return; }
    const rows = projects.map((p) => [
      el("a", { href: url.project(p.entity, p.project), class: "project-link", text: `${p.entity}/${p.project}` }),
      p.visibility, p.description, fmtTime(p.create_time),
      el("a", { href: url.artifacts(p.entity, p.project), text: "artifacts" }),
    ]);
    content().appendChild(table(["project", "visibility", "description", "created", ""], rows, { id: "projects" }));
  }).catch((e) => S.showError(content(), e));
})();

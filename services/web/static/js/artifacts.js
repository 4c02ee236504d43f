/* Artifact collections of a project, by type. */
"use strict";
(function () {
  const { el, api, content, page, url, table, fmtTime } = S;
  S.projectCrumbs(["artifacts", null]);
  api("GET", `${S.url.apiProject(page.entity, page.project)}/artifacts`).then(({ artifacts }) => {
    const byType = {};
    artifacts.forEach((a) => (byType[a.type] = byType[a.type] || []).push(a));
    if (!artifacts.length) content().appendChild(el("p", { class: "muted", text: "No artifacts yet." }));
    Object.keys(byType).sort().forEach((type) => {
      content().appendChild(el("h2", { text: type }));
      content().appendChild(table(["artifact", "versions", "latest", "updated", "description"], byType[type].map((a) => [
        el("a", { href: url.artifact(page.entity, page.project, a.id), class: "artifact-link", text: a.id }),
        String(a.version_count),
        a.latest_version ? el("a", { href: S.resourceUrl(a.latest_version), text: S.shortName(a.latest_version) }) : "",
        fmtTime(a.update_time), a.description]), { class: "artifacts", "data-type": type }));
    });
  }).catch((e) => S.showError(content(), e));
})();

/* A project's reports, newest first; each opens its report page. */
"use strict";
(function () {
  const { el, api, content, page, table } = S;
  const enc = encodeURIComponent;
  S.projectCrumbs(["reports", null]);
  api("GET", `${S.url.apiProject(page.entity, page.project)}/reports`).then(({ reports }) => {
    if (!reports.length) {
      content().appendChild(el("p", { class: "muted", text: "No reports yet: write one with strata.Report(...).save()." }));
      return;
    }
    content().appendChild(table(["report", "description", "revision", "updated"], reports.map((r) => [
      el("a", { href: `/p/${enc(page.entity)}/${enc(page.project)}/reports/${enc(r.id)}`, class: "report-link", text: r.title || r.id }),
      r.description || "", String(r.revision || ""), (r.update_time || "").replace("T", " ").slice(0, 19)]), { id: "reports" }));
  }).catch((e) => S.showError(content(), e));
})();

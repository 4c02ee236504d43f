/* One artifact: its versions, its aliases (move and revert, for those allowed: the server decides and
   its refusal is shown as is) and the alias history; pick two versions to diff. */
"use strict";
(function () {
  const { el, api, content, page, url, table, fmtTime, fmtSize, qs } = S;
  const base = `${S.url.apiProject(page.entity, page.project)}/artifacts/${encodeURIComponent(page.artifact)}`;
  S.projectCrumbs(["artifacts", url.artifacts(page.entity, page.project)], [page.artifact, null]);
  const versionsBox = el("section", { id: "versions" });
  const aliasBox = el("section", { id: "aliases" });
  const historyBox = el("section", { id: "alias-history" });
  content().append(aliasBox, versionsBox, historyBox);
  const short = (v) => (v ? v.split("/").pop() : "");

  async function load() {
    const a = await api("GET", base);
    document.getElementById("title").textContent = `${a.artifact.id} (${a.artifact.type})`;
    renderVersions(a.versions);
    renderAliases(a.aliases, a.versions);
    const h = await api("GET", `${base}/alias-history`);
    historyBox.replaceChildren(el("h2", { text: "Alias history" }), table(["revision", "alias", "event", "from", "to", "by", "reason", "when"],
      h.events.map((e) => [String(e.revision), e.alias, e.kind, short(e.from_version), short(e.to_version), e.actor.replace(/^entities\//, ""), e.reason, fmtTime(e.create_time)]),
      { id: "alias-history-table" }));
  }

  function renderVersions(versions) {
    const picks = [];
    const diffBtn = el("button", { id: "diff-selected", text: "Diff selected (2)" });
    diffBtn.addEventListener("click", () => {
      if (picks.length !== 2) return;
      const [a, b] = picks.map(Number).sort((x, y) => x - y);
      location.assign(`${url.artifact(page.entity, page.project, page.artifact)}/diff${qs({ old: "v" + a, new: "v" + b })}`);
    });
    versionsBox.replaceChildren(el("h2", { text: "Versions" }), diffBtn, table(["", "version", "aliases", "files", "size", "logged by", "committed"], versions.map((v) => {
      const box = el("input", { type: "checkbox", class: "pick", "data-version": v.version });
      box.addEventListener("change", () => { if (box.checked) picks.push(v.version); else picks.splice(picks.indexOf(v.version), 1); });
      return [box, el("a", { href: url.version(page.entity, page.project, page.artifact, `v${v.version}`), text: `v${v.version}` }),
        el("span", {}, v.aliases.map((x) => el("span", { class: "tag", text: x }))), String(v.file_count), fmtSize(v.total_size),
        v.producer_run ? el("a", { href: S.resourceUrl(v.producer_run), text: S.shortName(v.producer_run) }) : "", fmtTime(v.commit_time)];
    }), { id: "versions-table" }));
  }

  function renderAliases(aliases, versions) {
    const msg = el("p", { id: "alias-message", role: "alert" });
    const name = el("input", { id: "alias-name", size: 14, placeholder: "alias, e.g. production" });
    const ver = el("select", { id: "alias-version" }, versions.map((v) => el("option", { value: `v${v.version}`, text: `v${v.version}` })));
    const reason = el("input", { id: "alias-reason", size: 30, placeholder: "reason (kept in the history)" });
    const move = el("button", { id: "alias-move", type: "submit", text: "Move alias" });
    const form = el("form", { class: "inline", id: "alias-form" }, name, " → ", ver, reason, move);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await act(msg, () => api("POST", `${base}/aliases`, { alias: name.value.trim(), version: ver.value, reason: reason.value }),
        `moved ${name.value.trim()} to ${ver.value}`);
    });
    const rows = aliases.map((a) => {
      const revert = a.alias === "latest" ? "" : el("button", { class: "revert", "data-alias": a.alias, text: "Revert" });
      if (revert) revert.addEventListener("click", () => act(msg, () => api("POST", `${base}/aliases/${encodeURIComponent(a.alias)}/revert`, { reason: "reverted in the console" }), `reverted ${a.alias}`));
      return [el("span", {}, el("span", { class: "tag", text: a.alias }), a.protected ? el("span", { class: "badge", text: "protected" }) : ""),
        el("a", { href: S.resourceUrl(a.version), text: short(a.version) }), String(a.revision), fmtTime(a.update_time), revert];
    });
    aliasBox.replaceChildren(el("h2", { text: "Aliases" }), table(["alias", "version", "revision", "moved", ""], rows, { id: "aliases-table" }), form, msg);
  }

  async function act(msg, fn, done) {
    msg.className = ""; msg.textContent = "";
    try { await fn(); await load(); const m = document.getElementById("alias-message"); m.className = "ok"; m.textContent = done; }
    catch (e) { msg.className = "error"; msg.dataset.reason = e.reason; msg.textContent = `${e.reason}: ${e.message}`; }
  }
  load().catch((e) => S.showError(content(), e));
})();

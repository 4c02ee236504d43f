/* Sign in: paste an API key; the server checks it and keeps it in a server-side session. */
"use strict";
(function () {
  const { el, api, content } = S;
  const msg = el("p", { id: "signin-error", class: "error", role: "alert", hidden: true });
  const key = el("input", { id: "api-key", type: "password", autocomplete: "off", placeholder: "strata_…", size: 60 });
  const form = el("form", { id: "signin-form" },
    el("label", { for: "api-key", text: "API key" }), " ", key, " ",
    el("button", { id: "signin-button", type: "submit", text: "Sign in" }), msg,
    el("p", { class: "muted", text: "Create a key with `strata keys create` (or ask a team admin). It stays on the server; the browser only gets a session cookie." }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.hidden = true;
    try {
      await api("POST", "/api/v1/session", { api_key: key.value });
      const next = S.page.next || "/";
      const local = next.startsWith("/") && !next.startsWith("//") && !next.includes("\\");  // no other origin
      location.assign(local ? next : "/");
    } catch (e) {
      msg.textContent = e.message;
      msg.hidden = false;
    }
  });
  content().appendChild(form);
})();

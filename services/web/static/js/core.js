/* Strata console: shared helpers. Every piece of data reaches the page through textContent or
   attribute setters (never innerHTML), and scripts load only from this origin (CSP script-src 'self'). */
"use strict";
(function () {
  const page = document.body.dataset;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "class") node.className = v;
      else if (k === "text") node.textContent = String(v);
      else if (k === "checked" || k === "value" || k === "selected" || k === "disabled") node[k] = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || `HTTP ${status}`);
      this.status = status;
      this.reason = e.reason || "";
      this.field = e.field || "";
    }
  }

  function signinUrl() {
    return "/signin?next=" + encodeURIComponent(location.pathname + location.search);
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = page.csrf || "";
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.status === 401 && page.page !== "signin") { location.assign(signinUrl()); throw new ApiError(401, data); }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  }

  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
      else if (v !== undefined && v !== null && v !== "") u.append(k, v);
    }
    const s = u.toString();
    return s ? "?" + s : "";
  }

  const enc = encodeURIComponent;
  const url = {
    project: (e, p) => `/p/${enc(e)}/${enc(p)}`,
    run: (e, p, r) => `/p/${enc(e)}/${enc(p)}/runs/${enc(r)}`,
    artifacts: (e, p) => `/p/${enc(e)}/${enc(p)}/artifacts`,
    artifact: (e, p, a) => `/p/${enc(e)}/${enc(p)}/artifacts/${enc(a)}`,
    version: (e, p, a, v) => `/p/${enc(e)}/${enc(p)}/artifacts/${enc(a)}/versions/${enc(v)}`,
    lineage: (e, p, node) => `/p/${enc(e)}/${enc(p)}/lineage?node=${enc(node)}`,
    impact: (e, p, node) => `/p/${enc(e)}/${enc(p)}/impact?node=${enc(node)}`,
    apiProject: (e, p) => `/api/v1/projects/${enc(e)}/${enc(p)}`,
  };

  /* "entities/e/projects/p/runs/r" or ".../artifacts/a/versions/vN" -> the console page. */
  function resourceUrl(name) {
    const m = /^entities\/([^/]+)\/projects\/([^/]+)\/(runs|artifacts)\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(name || "");
    if (!m) return null;
    if (m[3] === "runs") return url.run(m[1], m[2], m[4]);
    return m[5] ? url.version(m[1], m[2], m[4], m[5]) : url.artifact(m[1], m[2], m[4]);
  }
  function shortName(name) {
    const m = /\/(runs|artifacts)\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(name || "");
    if (!m) return name || "";
    return m[1] === "runs" ? m[2] : (m[3] ? `${m[2]}:${m[3]}` : m[2]);
  }

  function fmtNum(x) {
    if (x === null || x === undefined) return "";
    if (typeof x !== "number") return String(x);
    if (Number.isInteger(x)) return String(x);
    const a = Math.abs(x);
    return a >= 1e6 ? x.toExponential(3) : String(Number(x.toPrecision(4)));
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return fmtNum(v);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function fmtTime(t) { return t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) : ""; }
  function fmtSize(n) {
    if (n === null || n === undefined || n < 0) return "";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + u[i];
  }

  function crumbs(...items) {
    const nav = document.getElementById("crumbs");
    nav.replaceChildren();
    items.forEach(([label, href]) => {
      nav.appendChild(el("span", { class: "sep", text: "/" }));
      nav.appendChild(href ? el("a", { href, text: label }) : el("span", { text: label }));
    });
  }
  function projectCrumbs(...more) {
    crumbs([page.entity, null], [page.project, url.project(page.entity, page.project)], ...more);
  }

  function showError(target, err) {
    target.replaceChildren(el("div", { class: "error", role: "alert" },
      el("strong", { text: err.reason || "ERROR" }), " ", err.message || String(err)));
  }
  function table(headers, rows, attrs) {
    return el("table", attrs || {},
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))));
  }
  function kv(obj) {
    const rows = Object.keys(obj || {}).sort().map((k) => [el("code", { text: k }), fmtValue(obj[k])]);
    return rows.length ? table(["key", "value"], rows, { class: "kv" }) : el("p", { class: "muted", text: "none" });
  }
  function flatten(obj, prefix, out) {
    out = out || {};
    for (const [k, v] of Object.entries(obj || {})) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out); else out[key] = v;
    }
    return out;
  }

  async function header() {
    const who = document.getElementById("who");
    const out = document.getElementById("signout");
    if (page.page === "signin") return;
    if (page.page === "error") {
      document.getElementById("content").appendChild(el("p", { class: "error", text: page.message || "" }));
    }
    try {
      const me = await api("GET", "/api/v1/me");
      who.textContent = me.name.replace(/^entities\//, "");
      if (!me.open_local) {
        out.hidden = false;
        out.addEventListener("click", async () => {
          await api("DELETE", "/api/v1/session");
          location.assign("/signin");
        });
      }
    } catch (e) { /* a 401 already redirected */ }
  }

  window.S = { page, el, api, qs, url, resourceUrl, shortName, fmtNum, fmtValue, fmtTime, fmtSize,
    crumbs, projectCrumbs, showError, table, kv, flatten, ApiError,
    content: () => document.getElementById("content") };
  document.addEventListener("DOMContentLoaded", header);
})();

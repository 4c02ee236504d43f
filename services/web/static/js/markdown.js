/* A safe subset of Markdown drawn as DOM nodes: paragraphs, headings, **bold**, *italic*, `code`,
   fenced code, bullet and numbered lists, and [links](https://...) with http(s) targets only. Every
   piece of text goes through textContent, so HTML in the source (a <script>, an onerror=) shows as
   the characters typed and never runs. */
"use strict";
(function () {
  const { el } = S;
  const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*|__[^_]+__)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/g;

  function safeHref(href) {
    try {
      const u = new URL(href, location.href);
      return (u.protocol === "http:" || u.protocol === "https:") && /^https?:\/\//i.test(href) ? u.href : null;
    } catch (e) { return null; }
  }

  function inline(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
      const t = m[0];
      if (m[1]) out.push(el("code", { text: t.slice(1, -1) }));
      else if (m[2]) out.push(el("strong", {}, inline(t.slice(2, -2))));
      else if (m[3]) out.push(el("em", {}, inline(t.slice(1, -1))));
      else {
        const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t);
        const href = safeHref(link[2]);
        out.push(href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, inline(link[1]))
                      : document.createTextNode(t));
      }
      last = m.index + t.length;
    }
    if (last < text.length) out.push(document.createTextNode(text.slice(last)));
    return out;
  }

  function render(source) {
    const root = el("div", { class: "markdown" });
    const lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    let para = [], list = null;
    const flush = () => {
      if (para.length) root.appendChild(el("p", {}, inline(para.join(" "))));
      para = [];
    };
    const endList = () => { list = null; };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      let m;
      if (/^```/.test(line)) {
        flush(); endList();
        const code = [];
        for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
        root.appendChild(el("pre", {}, el("code", { text: code.join("\n") })));
      } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flush(); endList();
        root.appendChild(el(`h${Math.min(6, m[1].length + 2)}`, {}, inline(m[2])));
      } else if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
        flush();
        const tag = /\d/.test(m[1]) ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== tag) { list = el(tag); root.appendChild(list); }
        list.appendChild(el("li", {}, inline(m[2])));
      } else if (!line.trim()) {
        flush(); endList();
      } else {
        endList();
        para.push(line.trim());
      }
    }
    flush();
    return root;
  }

  window.Markdown = { render, inline, safeHref };
})();

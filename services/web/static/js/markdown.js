/* Markdown.fromHtml(html): a report's Markdown as the server rendered it (markdown-it-py, raw HTML off,
   the same configuration as the HTML export), rebuilt as DOM through an allowlist: only the elements
   Markdown produces, no attribute but a link's http(s)/mailto/#anchor href and a table cell's alignment
   (as a class: the CSP forbids style attributes); anything else keeps only its text.
   Markdown.render(source), for a server without rendered HTML: a safe subset of Markdown drawn as DOM nodes: paragraphs, headings, **bold**, *italic*, `code`,
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

  const TAGS = new Set(["p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "em", "strong", "code", "pre",
    "a", "table", "thead", "tbody", "tr", "th", "td", "blockquote", "hr", "br", "s", "del"]);

  function linkTarget(href) {
    if (/^#[\w-]*$/.test(href)) return href;
    if (/^mailto:/i.test(href)) return href;
    return safeHref(href);
  }

  function rebuild(node) {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const tag = node.tagName.toLowerCase();
    const kids = Array.from(node.childNodes).map(rebuild).filter(Boolean);
    if (!TAGS.has(tag)) return document.createTextNode(node.textContent);
    const out = el(tag, {}, kids);
    if (tag === "a") {
      const href = linkTarget(node.getAttribute("href") || "");
      if (!href) return el("span", {}, kids);
      out.href = href;
      if (!href.startsWith("#")) { out.rel = "noopener noreferrer nofollow"; out.target = "_blank"; }
    }
    const align = node.getAttribute("data-align");
    if ((tag === "th" || tag === "td") && /^(left|right|center)$/.test(align || "")) out.className = `align-${align}`;
    if (tag === "ol" && /^\d+$/.test(node.getAttribute("start") || "")) out.start = Number(node.getAttribute("start"));
    return out;
  }

  function fromHtml(html) {
    // a cell's alignment is markdown-it's only style attribute: renamed first, since the CSP refuses
    // (and reports) style attributes even in a parsed document (user text cannot hold a raw `"`)
    const marked = String(html).replace(/ style="text-align:(left|right|center)"/g, ' data-align="$1"');
    const doc = new DOMParser().parseFromString(`<body>${marked}</body>`, "text/html");  // inert: runs nothing
    const root = el("div", { class: "markdown" });
    Array.from(doc.body.childNodes).map(rebuild).filter(Boolean).forEach((n) => root.appendChild(n));
    return root;
  }

  window.Markdown = { render, fromHtml, inline, safeHref };
})();

"""Markdown blocks as HTML, safely: CommonMark plus tables and strikethrough, rendered by markdown-it-py
with raw HTML off (a `<script>` or `<img onerror=...>` in the source is shown as the characters typed),
links only to http(s), mailto and #anchors (a `javascript:` link stays text), images off (a report
opens with no network), headings shifted two levels down (`#` is an h3, under the report's title and
heading blocks). One renderer for both sides: the HTML export of a report (client) and the console's
report page (server; it draws this HTML through markdown.js's allowlist of elements and attributes).
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

_SAFE_LINK = re.compile(r"^(https?:|mailto:|#)", re.IGNORECASE)
_REL = "noopener noreferrer nofollow"


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"]).disable("image")
    md.validateLink = lambda url: bool(_SAFE_LINK.match(url.strip()))  # type: ignore[method-assign]
    return md


def to_html(text: str) -> str:
    """The block's HTML (no raw HTML passes through; see the module docstring)."""
    md = _renderer()
    tokens = md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
        for child in token.children or ():
            if child.type == "link_open":
                child.attrSet("rel", _REL)
    html: str = md.renderer.render(tokens, md.options, {})
    return html

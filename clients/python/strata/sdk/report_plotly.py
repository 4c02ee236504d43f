"""Plotly figures in the HTML export, drawn offline and without running anything from the report's data.

Each figure goes into the page as data: its JSON in a `<script type="application/json">` block (a data
block the browser never runs; `<`, `>` and `&` escaped as `\\u003c`..., so a string in the figure
cannot end the block). One fixed script of this module (DRAW) parses each block and hands it to
plotly.js. plotly.js is the console's vendored strict build (no `eval`, no `Function`), read once per
export from the console at $STRATA_WEB_URL (`/static/vendor/plotly-strict.min.js`, the file the
console draws with) and inlined once, only when the report has a figure: such a page is about 5 MB
larger. The page's Content-Security-Policy allows exactly these two scripts, by their SHA-256.

When the console cannot be reached, figures are named as before (with the reason) and the export
still succeeds.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import sys
import urllib.request

SCRIPT_PATH = "/static/vendor/plotly-strict.min.js"
BANNER = "plotly.js (strict"  # the vendored build's licence banner, in its first lines
FETCH_TIMEOUT = 30.0

# Draws every .plotly-figure not inside a closed <details>, and those of a <details> when it opens
# (a figure drawn while hidden would be sized 0). The console draws with the same layout and config.
DRAW = """(function () {
  "use strict";
  function draw(box) {
    if (box.dataset.drawn) return;
    box.dataset.drawn = "1";
    var fig;
    try { fig = JSON.parse(box.querySelector("script.plotly-data").textContent); }
    catch (e) { box.dataset.error = "1"; return; }
    var target = document.createElement("div");
    box.replaceChildren(target);
    var layout = Object.assign({ height: 360 }, fig.layout || {}, { autosize: true });
    Plotly.newPlot(target, { data: fig.data || [], layout: layout, frames: fig.frames || [],
      config: { displaylogo: false, responsive: true } }).then(function () { box.dataset.ready = "1"; });
  }
  function drawShown(root) {
    root.querySelectorAll(".plotly-figure").forEach(function (box) {
      if (!box.closest("details:not([open])")) draw(box);
    });
  }
  document.querySelectorAll("details").forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) drawShown(d); });
  });
  drawShown(document);
})();
"""


def _normalized(script: str) -> str:
    # The HTML parser turns CR LF and CR into LF before the browser hashes an inline script.
    return script.replace("\r\n", "\n").replace("\r", "\n")


def _inlinable(script: str) -> bool:
    """Whether the text can sit between <script> and </script> unchanged: no end tag, no comment opener
    (which would switch the parser into its script-escaped states)."""
    lower = script.lower()
    return "</script" not in lower and "<!--" not in lower


def script_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(_normalized(script).encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def fetch_script(base_url: str, timeout: float = FETCH_TIMEOUT) -> tuple[str | None, str]:
    """The console's plotly.js and "", or None and why it could not be used."""
    url = base_url.rstrip("/") + SCRIPT_PATH
    if not url.startswith(("http://", "https://")):
        return None, f"the console address {base_url!r} is not http(s)"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            kind = resp.headers.get("Content-Type", "")
            text = resp.read().decode("utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as e:
        return None, f"plotly.js could not be read from {url}: {e}"
    if "javascript" not in kind or BANNER not in text[:1000]:
        return None, f"{url} did not answer with plotly.js (Content-Type {kind or 'none'})"
    text = _normalized(text)
    if not _inlinable(text):
        return None, f"{url} holds text that cannot be inlined in a page"
    return text, ""


def figure_json(raw: bytes) -> str:
    """A figure's JSON as the text of a data block: parsed (so it is JSON), re-serialized compactly,
    with <, > and & escaped so that nothing in it ends the block or reads as markup."""
    text = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class PlotlyInline:
    """Per export: reads plotly.js at the first figure (once), counts the figures drawn, and gives the
    scripts and their CSP hashes to put in the page."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._script: str | None = None
        self._tried = False
        self.problem = ""
        self.figures = 0

    def available(self) -> bool:
        if not self._tried:
            self._tried = True
            self._script, self.problem = fetch_script(self._base_url)
            if self._script is None:
                print(
                    f"strata: report export: Plotly figures are named, not drawn: {self.problem}",
                    file=sys.stderr,
                )
        return self._script is not None

    def figure(self, raw: bytes, label: str) -> str:
        """A box drawn by DRAW from the figure's JSON (call only when available())."""
        self.figures += 1
        data = figure_json(raw)
        return (
            f'<div class="plotly-figure" aria-label="{html.escape(label)}"><script type="application/json" '
            f'class="plotly-data">{data}</script><p><em>A Plotly figure (drawn when the page opens).</em></p></div>'
        )

    def scripts(self) -> tuple[str, list[str]]:
        """The page's script tags (plotly.js, then DRAW) and their CSP hashes; nothing without figures."""
        if not self.figures or self._script is None:
            return "", []
        tags = f'<script id="plotly-js">{self._script}</script>\n<script id="plotly-draw">{DRAW}</script>\n'
        return tags, [script_hash(self._script), script_hash(DRAW)]


def csp(script_hashes: list[str]) -> str:
    """The export's policy: nothing is fetched (images, audio and video are data: URIs), styles inline, and only the
    listed scripts run (none when there are no figures)."""
    scripts = " ".join(script_hashes) or "'none'"
    return (
        f"default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; script-src {scripts}; "
        "base-uri 'none'; form-action 'none'"
    )


def note(problem: str) -> str:
    """What a figure shows when plotly.js could not be read."""
    return f"<p><em>A Plotly figure: drawn on the report's page in the console ({html.escape(problem)}).</em></p>"

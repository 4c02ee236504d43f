"""The path rule of files inside runs and artifact manifests, and how to show a path safely.

One definition, used by the server (AddRunFiles, ReadRunFile, artifact manifests) and by the SDK
(before anything is uploaded, and before anything is written to disk on download). Public and stable:
see strata.wire.

A path is 1..1024 bytes of UTF-8, relative and POSIX-style: no leading "/", no Windows drive ("C:"),
no backslash, no empty, "." or ".." segment, and none of these characters:

  * control characters: C0 (U+0000-U+001F, newline and ESC included), DEL (U+007F), C1 (U+0080-U+009F);
  * invisible format characters that can make a name look like another one or reorder what a terminal
    shows: soft hyphen U+00AD, U+061C, U+180E, zero-width characters and directional marks
    U+200B-U+200F, line and paragraph separators U+2028-U+2029, bidi embeddings and overrides
    U+202A-U+202E, word joiner, invisible operators and bidi isolates U+2060-U+206F, the byte-order
    mark U+FEFF, interlinear annotations U+FFF9-U+FFFB and tag characters U+E0000-U+E007F;
  * lone surrogates (U+D800-U+DFFF), which are not Unicode text.

The zero-width joiner (U+200D) is refused too, so emoji sequences joined by it cannot appear in a path.

`printable(text)` is what every listing shows: the refused characters (and the backslash) escaped
Python-style (`\\n`, `\\x1b`, `\\u202e`), everything else as is, so a hostile name stored by an older
server cannot drive the terminal or disguise itself.
"""

from __future__ import annotations

import re

MAX_PATH_BYTES = 1024

_REFUSED_CLASS = (
    "\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff\U000e0000-\U000e007f"
)
REFUSED = re.compile(f"[{_REFUSED_CLASS}]")
_SHOWN_ESCAPED = re.compile(f"[{_REFUSED_CLASS}\\\\]")
_DRIVE = re.compile(r"[A-Za-z]:")
_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def path_problem(path: str) -> str | None:
    """Why `path` is not an acceptable file path (a short phrase), or None when it is."""
    if not path:
        return "is empty"
    bad = REFUSED.search(path)
    if bad is not None:
        where = f"{_escape(bad)} at index {bad.start()}"
        return f"holds {where} (a control, invisible format or surrogate character)"
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        return f"is longer than {MAX_PATH_BYTES} bytes of UTF-8"
    if path.startswith("/") or _DRIVE.match(path):
        return "is absolute (it must be relative)"
    if "\\" in path:
        return "holds a backslash (the separator is '/')"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "has an empty, '.' or '..' segment"
    return None


def printable(text: str, limit: int | None = None) -> str:
    """`text` with control and format characters and the backslash escaped (`\\x1b`, `\\n`, `\\u202e`),
    cut to `limit` characters (with "...") when given: safe to print to a terminal or a log."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return _SHOWN_ESCAPED.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"

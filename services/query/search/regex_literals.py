"""The literal text a PostgreSQL regular expression (ARE) requires, for the trigram prefilter.

`required_literals(pattern)` returns alternatives: a list of branches, each a list of literal strings
that every match of that branch contains. A value the regex matches therefore contains all literals
of at least one branch. The analysis is conservative: anything it does not fully understand (groups,
brackets, escapes with letters, embedded options) only ends the current literal; a pattern it cannot
analyse at all gives None (no prefilter: the search reads every run). Literals shorter than
MIN_LITERAL characters are dropped (they have no trigram); a branch left with none makes the whole
pattern None, since then any value might match.

Examples: "^run 12345$" -> [["run 12345"]]; "adam(w)?|sgd_mom" -> [["adam"], ["sgd_mom"]];
"lr=0\\.01" -> [["lr=0.01"]]; "ab*cd" -> [["cd"]] (a, b are optional) -> None as "cd" is too short.
"""

from __future__ import annotations

MIN_LITERAL = 3
_QUANTIFIERS_DROP = "*?{"  # the atom before may be absent
_BREAKERS = ".^$"


def required_literals(pattern: str) -> list[list[str]] | None:
    """Branches of required literals (each of >= MIN_LITERAL characters), or None."""
    if pattern.startswith("***="):
        body = pattern[4:]
        return [[body]] if len(body) >= MIN_LITERAL else None
    if pattern.startswith("***:"):
        pattern = pattern[4:]
    if pattern.startswith("***") or pattern.startswith("(?"):
        return None  # embedded options (expanded syntax, literal mode, ...): not analysed
    branches = _split_branches(pattern)
    if branches is None:
        return None
    out = []
    for branch in branches:
        literals = _branch_literals(branch)
        if literals is None:
            return None
        kept = [lit for lit in literals if len(lit) >= MIN_LITERAL]
        if not kept:
            return None
        out.append(kept)
    return out


def _split_branches(pattern: str) -> list[str] | None:
    """Split on top-level `|` (outside groups and brackets)."""
    branches, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            end = _bracket_end(pattern, i)
            if end is None:
                return None
            i = end
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
        elif c == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    if depth != 0:
        return None
    branches.append(pattern[start:])
    return branches


def _bracket_end(pattern: str, i: int) -> int | None:
    """Index after the bracket expression starting at pattern[i] == "["."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1  # a leading "]" is a member
    while j < len(pattern):
        c = pattern[j]
        if c == "[" and j + 1 < len(pattern) and pattern[j + 1] in ":.=":
            close = pattern.find(pattern[j + 1] + "]", j + 2)
            if close < 0:
                return None
            j = close + 2
            continue
        if c == "\\":
            j += 2
            continue
        if c == "]":
            return j + 1
        j += 1
    return None


def _group_end(pattern: str, i: int) -> int | None:
    """Index after the group starting at pattern[i] == "("."""
    depth, j = 0, i
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            end = _bracket_end(pattern, j)
            if end is None:
                return None
            j = end
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return None


def _branch_literals(branch: str) -> list[str] | None:
    literals: list[str] = []
    run: list[str] = []

    def cut() -> None:
        if run:
            literals.append("".join(run))
            run.clear()

    i = 0
    while i < len(branch):
        c = branch[i]
        if c == "\\":
            if i + 1 >= len(branch):
                return None
            nxt = branch[i + 1]
            if nxt.isalnum() or nxt == "_" or ord(nxt) > 127:
                cut()  # a class, a boundary, a character entry or a back-reference: not literal text
                i = _escape_end(branch, i)
                continue
            run.append(nxt)
            i += 2
            continue
        if c in _QUANTIFIERS_DROP:
            if run:
                run.pop()  # the atom before is optional (or repeated a bounded number of times)
            cut()
            if c == "{":
                close = branch.find("}", i)
                i = close + 1 if close >= 0 else i + 1
            else:
                i += 1
            continue
        if c == "+":
            cut()  # the atom before occurs at least once; what follows is not adjacent to it
            i += 1
            continue
        if c in _BREAKERS:
            cut()
            i += 1
            continue
        if c == "[":
            end = _bracket_end(branch, i)
            if end is None:
                return None
            cut()
            i = end
            continue
        if c == "(":
            end = _group_end(branch, i)
            if end is None:
                return None
            cut()
            i = end
            continue
        if c == ")":
            return None
        run.append(c)
        i += 1
    cut()
    return literals


def _escape_end(branch: str, i: int) -> int:
    """Index after the escape at branch[i] == "\\" whose next character is alphanumeric. The digits
    and hex digits of character entries (\\x41, \\u00e9, \\0101, back-references \\12) are part of it."""
    kind = branch[i + 1]
    j = i + 2
    if kind == "c":
        return min(j + 1, len(branch))
    hexdigits = "0123456789abcdefABCDEF"
    allowed, most = (hexdigits, {"x": len(branch), "u": 4, "U": 8}.get(kind, 0)) if kind in "xuU" else ("", 0)
    if kind.isdigit():
        allowed, most = "0123456789", len(branch)
    while j < len(branch) and j - i - 2 < most and branch[j] in allowed:
        j += 1
    return j

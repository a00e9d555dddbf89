"""Hetzner's label selectors (`label_selector=` on every list), as its API documents them.

`k=v` / `k==v` equality, `k!=v` inequality, `k` present, `!k` absent, `k in (a,b)` and
`k notin (a,b)`, joined by commas (all must hold). Jarvis lists only what carries its labels, so
the emulator must filter exactly as the real API does.
"""

from __future__ import annotations

import re

_SET = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)\s*$")
_CMP = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=()]*)\s*$")
_HAS = re.compile(r"^\s*(?P<neg>!?)\s*(?P<key>[^\s!=(),]+)\s*$")


class LabelSelectorError(ValueError):
    pass


def _terms(selector: str) -> list[str]:
    """Split on the commas that are not inside `( )`."""
    terms, depth, current = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    return [*terms, current]


def matches(selector: str, labels: dict[str, str]) -> bool:
    for term in _terms(selector):
        if not term.strip():
            continue
        if m := _SET.match(term):
            values = {v.strip() for v in m["values"].split(",") if v.strip()}
            inside = m["key"] in labels and labels[m["key"]] in values
            if inside != (m["op"] == "in"):
                return False
        elif m := _CMP.match(term):
            equal = labels.get(m["key"]) == m["value"]
            if equal != (m["op"] != "!="):
                return False
        elif m := _HAS.match(term):
            if (m["key"] in labels) == bool(m["neg"]):
                return False
        else:
            raise LabelSelectorError(f"cannot parse {term.strip()!r}")
    return True

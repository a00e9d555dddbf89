"""A structural check of Grafana Alloy configuration files, since Alloy itself cannot run here.

Parses Alloy's syntax (blocks with labels, attributes, strings, numbers, lists, objects and
references to other components' exports), then checks what Alloy would refuse at load time:
unknown components, components without a label, references to components not defined, or to
exports those components do not have. Errors name line:column.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# The components deploy/alloy/config.alloy uses and the exports others may reference
# (https://grafana.com/docs/alloy/latest/reference/components/).
EXPORTS = {
    "discovery.docker": {"targets"},
    "discovery.relabel": {"output", "rules"},
    "loki.source.docker": set(),
    "loki.process": {"receiver"},
    "loki.write": {"receiver"},
}
# blocks nested in a component (not components themselves)
NESTED = {"filter", "rule", "endpoint", "stage.json", "stage.labels"}

_TOKEN = re.compile(r'''
    (?P<ws>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/) |
    (?P<string>"(?:[^"\\]|\\.)*") | (?P<number>-?\d+(?:\.\d+)?) |
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) | (?P<punct>[{}\[\]=,])
''', re.S | re.X)


class AlloyError(ValueError):
    pass


@dataclass(frozen=True)
class Ref:
    path: str
    pos: str


@dataclass
class Block:
    kind: str
    label: str | None
    pos: str
    attrs: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def _tokens(text: str) -> list[tuple[str, str, str]]:
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        line = text.count("\n", 0, i) + 1
        pos = f"{line}:{i - (text.rfind(chr(10), 0, i) + 1) + 1}"
        if not m:
            raise AlloyError(f"{pos}: unexpected character {text[i]!r}")
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), pos))
        i = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks, self.i = _tokens(text), 0

    def peek(self, ahead: int = 0):
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else ("eof", "", "end")

    def take(self, kind: str | None = None, value: str | None = None):
        tok = self.peek()
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            raise AlloyError(f"{tok[2]}: expected {value or kind}, found {tok[1] or 'end of file'!r}")
        self.i += 1
        return tok

    def body(self, end: str | None) -> tuple[dict[str, Any], list[Block]]:
        attrs, blocks = {}, []
        while not (self.peek()[1] == end if end else self.peek()[0] == "eof"):
            _, name, pos = self.take("ident")
            if self.peek()[1] == "=":
                self.take(value="=")
                if name in attrs:
                    raise AlloyError(f"{pos}: attribute {name} set twice")
                attrs[name] = self.expr()
                continue
            label = json.loads(self.take("string")[1]) if self.peek()[0] == "string" else None
            self.take(value="{")
            b_attrs, b_blocks = self.body("}")
            self.take(value="}")
            blocks.append(Block(name, label, pos, b_attrs, b_blocks))
        return attrs, blocks

    def expr(self) -> Any:
        kind, value, pos = self.take()
        if kind == "string":
            return json.loads(value)
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "ident":
            return {"true": True, "false": False, "null": None}.get(value, Ref(value, pos)) \
                if value in ("true", "false", "null") else Ref(value, pos)
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.expr())
                if self.peek()[1] == ",":
                    self.take(value=",")
            self.take(value="]")
            return items
        if value == "{":
            obj = {}
            while self.peek()[1] != "}":
                k_kind, key, k_pos = self.take()
                if k_kind not in ("ident", "string"):
                    raise AlloyError(f"{k_pos}: expected an object key, found {key!r}")
                self.take(value="=")
                obj[json.loads(key) if k_kind == "string" else key] = self.expr()
                if self.peek()[1] == ",":
                    self.take(value=",")
            self.take(value="}")
            return obj
        raise AlloyError(f"{pos}: expected a value, found {value!r}")


def parse(text: str) -> list[Block]:
    attrs, blocks = _Parser(text).body(None)
    if attrs:
        raise AlloyError(f"top-level attributes are not allowed: {sorted(attrs)}")
    return blocks


def _refs(value: Any):
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _refs(v)


def _walk(block: Block):
    yield block
    for b in block.blocks:
        yield from _walk(b)


def check_references(blocks: list[Block]) -> None:
    defined: dict[str, str] = {}
    for b in blocks:
        if b.kind not in EXPORTS:
            raise AlloyError(f"{b.pos}: unknown component {b.kind}")
        if not b.label:
            raise AlloyError(f"{b.pos}: component {b.kind} needs a label")
        key = f"{b.kind}.{b.label}"
        if key in defined:
            raise AlloyError(f"{b.pos}: {key} defined twice (first at {defined[key]})")
        defined[key] = b.pos
        for inner in list(_walk(b))[1:]:
            if inner.kind not in NESTED:
                raise AlloyError(f"{inner.pos}: unknown block {inner.kind} in {b.kind}")
    for b in blocks:
        for inner in _walk(b):
            for ref in (r for v in inner.attrs.values() for r in _refs(v)):
                owner = next((k for k in defined if ref.path.startswith(k + ".")), None)
                if owner is None:
                    raise AlloyError(f"{ref.pos}: {ref.path} names no component defined in this file")
                export = ref.path[len(owner) + 1:]
                if export not in EXPORTS[owner.rsplit(".", 1)[0]]:
                    raise AlloyError(f"{ref.pos}: {owner} exports no {export!r}")

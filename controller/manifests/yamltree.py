"""Read YAML keeping the node tree, so errors can point at the line and column a person wrote.

PyYAML silently keeps the last of two equal keys; the loader here records both. It also drops
YAML 1.1's base-60 integers, so `ports: [22:22]` stays the string "22:22" instead of 1342.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _without_sexagesimal() -> dict[str | None, list[tuple[str, re.Pattern[str]]]]:
    int_re = re.compile(r"""^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$""", re.X)
    float_re = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", re.X)
    table: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
        table[first] = []
        for tag, regexp in resolvers:
            if tag.endswith(":int"):
                regexp = int_re
            elif tag.endswith(":float"):
                regexp = float_re
            table[first].append((tag, regexp))
    return table


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    mapping: MappingNode
    key: str
    first: Node
    again: Node


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    yaml_implicit_resolvers = _without_sexagesimal()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[DuplicateKey] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue  # merged keys may be overridden on purpose
                ident = (key_node.tag, key_node.value)
                if ident in seen:
                    self.duplicates.append(DuplicateKey(node, key_node.value, seen[ident], key_node))
                else:
                    seen[ident] = key_node
        return super().construct_mapping(node, deep=deep)


@dataclass(slots=True)
class Document:
    data: Any
    root: Node | None
    duplicates: list[DuplicateKey] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one document, checked on the node tree before any Python value is built."""

    max_aliases: int = 200
    max_nodes: int = 50_000
    max_bytes: int = 262_144    # checked by the loader on the file's text, before parsing


class LimitError(yaml.MarkedYAMLError):
    """A document over one of its `Limits`; marked at the node where the limit was crossed."""

    def __init__(self, problem: str, node: Node) -> None:
        super().__init__(problem=problem, problem_mark=node.start_mark)


def check_expansion(root: Node, limits: Limits) -> None:
    """Count aliases and the values the document would hold with every alias expanded.

    An alias is the same node object reached again, so the walk visits each node once and the
    expanded size is a sum over children: a bomb of nested aliases is refused in linear time,
    at the collection whose expansion crosses the limit, before anything is constructed. The
    walk goes in document order, so an anchor is complete before any alias to it is reached."""
    aliases = 0
    size: dict[int, int] = {}       # finished nodes -> expanded size
    open_: set[int] = set()         # nodes whose children are still being walked
    stack: list[tuple[Node, Node | None, bool]] = [(root, None, False)]
    while stack:
        node, parent, children_done = stack.pop()
        if children_done:
            total = 1 + sum(size[id(k)] for k in _children(node))
            if total > limits.max_nodes:
                raise LimitError(f"this value expands to more than {limits.max_nodes} values through its "
                                 "aliases (JARVIS_MANIFEST_MAX_NODES)", node)
            size[id(node)] = total
            open_.discard(id(node))
            continue
        if id(node) in size or id(node) in open_:   # reached again: an alias
            if id(node) in open_:
                raise LimitError("an alias refers to a value that contains it", parent or node)
            aliases += 1
            if aliases > limits.max_aliases:
                raise LimitError(f"more than {limits.max_aliases} aliases in one manifest "
                                 "(JARVIS_MANIFEST_MAX_ALIASES)", parent or node)
            continue
        open_.add(id(node))
        stack.append((node, parent, True))
        stack.extend((kid, node, False) for kid in reversed(_children(node)))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def load(text: str, limits: Limits | None = None) -> Document:
    """Parse one YAML document; raises yaml.YAMLError (marked with a position when the parser knows it)."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            check_expansion(root, limits or Limits())
        data = loader.construct_document(root) if root is not None else None
        return Document(data, root, loader.duplicates)
    finally:
        loader.dispose()


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int
    where: str  # the dotted path of the node, as the user wrote it: services.web.ports[0]


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def render(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def locate(root: Node | None, loc: tuple[str | int, ...], at_key: bool = False) -> Position:
    """The position of `loc` (a validation path) in the tree; as deep as the tree goes.

    `at_key` points at the key of the last element instead of its value (unknown or duplicate keys).
    An integer step on a mapping is skipped: the model wrapped a single mapping into a list (`dns:`).
    """
    if root is None:
        return Position(1, 1, render(list(loc)))
    node, key_node, walked = root, None, []
    rest = list(loc)
    while rest:
        step = rest[0]
        nxt = None
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == str(step):
                    nxt, key_node = v, k
                    break
            if nxt is None and step == 0:
                rest.pop(0)
                continue
        elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            nxt, key_node = node.value[step], None
        if nxt is None:
            break
        node = nxt
        walked.append(rest.pop(0))
    where = render(walked + rest)
    if rest:  # the tree ends first: a missing field, or a short form the model expanded
        target = key_node if key_node is not None else node
    else:
        target = key_node if at_key and key_node is not None else node
    line, column = _mark(target)
    return Position(line, column, where)


def path_of(root: Node | None, wanted: Node) -> list[str | int]:
    """The path from the root to a node (used to name the mapping holding a duplicate key)."""
    stack: list[tuple[Node, list[str | int]]] = [(root, [])] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is wanted:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend((v, [*path, k.value]) for k, v in node.value if isinstance(k, ScalarNode))
        elif isinstance(node, SequenceNode):
            stack.extend((v, [*path, i]) for i, v in enumerate(node.value))
    return []

"""orch.yaml text -> Manifest, with every problem found reported at its file:line:column.

Order of checks: YAML syntax, then shape (pydantic, all errors at once) and duplicate keys, then the
checks across sections (they need a valid shape to read names from).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from .checks import RunbookInputs, check
from .errors import ManifestError, ParseResult
from .extensions import kind_sections, manifest_model
from .translate import translate
from .yamltree import Document, DuplicateKey, LimitError, Limits, load, path_of, render


def limits_from_settings() -> Limits:
    from controller.settings import get_settings

    s = get_settings()
    return Limits(max_aliases=s.manifest_max_aliases, max_nodes=s.manifest_max_nodes, max_bytes=s.manifest_max_bytes)


def parse_manifest(text: str, path: str, known_connections: Collection[str] | Mapping[str, Collection[str]] | None = None,
                   limits: Limits | None = None, runbook_inputs: RunbookInputs | None = None) -> ParseResult:
    limits = limits or limits_from_settings()
    too_big = _over_size(text, path, limits.max_bytes)
    if too_big is not None:
        return ParseResult(None, [too_big])
    try:
        doc = load(text, limits)
    except LimitError as exc:
        mark = exc.problem_mark
        return ParseResult(None, [ManifestError(path, mark.line + 1, mark.column + 1, f"manifest too large: {exc.problem}",
                                                "use fewer aliases, or raise the limit in the settings")])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "cannot parse"
        if exc.problem and exc.context and exc.context_mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        return ParseResult(None, [ManifestError(path, line, column, f"invalid YAML: {problem}")])
    except yaml.YAMLError as exc:
        return ParseResult(None, [ManifestError(path, 1, 1, f"invalid YAML: {exc}")])

    if doc.root is None or doc.data is None:
        return ParseResult(None, [ManifestError(path, 1, 1, "the manifest is empty",
                                                "start with `apiVersion: jarvis/v1` and `name: <name>`")])
    if not isinstance(doc.data, dict):
        line, column = doc.root.start_mark.line + 1, doc.root.start_mark.column + 1
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        return ParseResult(None, [ManifestError(path, line, column, f"the manifest must be a mapping of keys, got {kind}",
                                                "start with `apiVersion: jarvis/v1` and `name: <name>`")])

    errors = _duplicate_keys(doc, path)
    try:
        extra = kind_sections()
        manifest = manifest_model(extra).model_validate(doc.data)
    except ValidationError as exc:
        return ParseResult(None, _sorted(errors + translate(exc, doc.root, path)))
    errors += check(manifest, doc.root, path, known_connections, extra, runbook_inputs)
    return ParseResult(None if errors else manifest, _sorted(errors))


def parse_file(path: str | Path, known_connections: Collection[str] | Mapping[str, Collection[str]] | None = None) -> ParseResult:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")   # parse_manifest refuses it if too big
    except (OSError, UnicodeDecodeError) as exc:
        return ParseResult(None, [ManifestError(str(path), 1, 1, f"cannot read the manifest: {exc}")])
    return parse_manifest(text, str(path), known_connections)


def _over_size(text: str, path: str, max_bytes: int) -> ManifestError | None:
    """An error at the line and column where the text crosses `max_bytes`, or None."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return None
    head = data[:max_bytes].decode("utf-8", errors="ignore")
    line = head.count("\n") + 1
    column = len(head) - (head.rfind("\n") + 1) + 1
    return ManifestError(path, line, column, f"the manifest is {len(data)} bytes, larger than the limit of "
                         f"{max_bytes} (JARVIS_MANIFEST_MAX_BYTES)", "split it into several manifests")


def _duplicate_keys(doc: Document, path: str) -> list[ManifestError]:
    return [_duplicate_error(dup, doc, path) for dup in doc.duplicates]


def _duplicate_error(dup: DuplicateKey, doc: Document, path: str) -> ManifestError:
    where = render(path_of(doc.root, dup.mapping))
    mark = dup.again.start_mark
    return ManifestError(path, mark.line + 1, mark.column + 1,
                         f"duplicate key {dup.key!r} {f'in {where}' if where else 'at the top level'} "
                         f"(first at line {dup.first.start_mark.line + 1})",
                         "YAML keeps only the last one; remove or merge them")


def _sorted(errors: list[ManifestError]) -> list[ManifestError]:
    return sorted(errors, key=lambda e: (e.line, e.column, e.message))

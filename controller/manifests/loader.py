"""orch.yaml text -> Manifest, with every problem found reported at its file:line:column.

Order of checks: YAML syntax, then shape (pydantic, all errors at once) and duplicate keys, then the
checks across sections (they need a valid shape to read names from).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from .checks import check
from .errors import ManifestError, ParseResult
from .models import Manifest
from .translate import translate
from .yamltree import Document, DuplicateKey, load, path_of, render


def parse_manifest(text: str, path: str, known_connections: set[str] | None = None) -> ParseResult:
    try:
        doc = load(text)
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
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as exc:
        return ParseResult(None, _sorted(errors + translate(exc, doc.root, path)))
    errors += check(manifest, doc.root, path, known_connections)
    return ParseResult(None if errors else manifest, _sorted(errors))


def parse_file(path: str | Path, known_connections: set[str] | None = None) -> ParseResult:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return ParseResult(None, [ManifestError(str(path), 1, 1, f"cannot read the manifest: {exc}")])
    return parse_manifest(text, str(path), known_connections)


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

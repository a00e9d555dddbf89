"""orch.yaml: models, parsing with positioned errors, and the generated JSON Schema."""

from .errors import ManifestError, ParseResult
from .loader import parse_file, parse_manifest
from .models import Manifest

__all__ = ["Manifest", "ManifestError", "ParseResult", "parse_file", "parse_manifest"]

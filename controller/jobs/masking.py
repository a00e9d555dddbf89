"""Masking of secret values in job output: stdout, events and artifacts.

A secret may show up as-is, URL-encoded (in a DSN), base64-encoded (in a basic-auth header
or a Kubernetes-style secret) or JSON-escaped (Ansible prints results as JSON). All the forms
of all the secrets go into one compiled regex, so masking an event is one `sub` per string.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
MIN_SECRET_LEN = 4          # shorter values would mask ordinary words and numbers
MIN_LINE_LEN = 16           # lines of a multi-line secret (a PEM key) are masked one by one


def _forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    forms.add(base64.b64encode(raw).decode())
    forms.add(base64.urlsafe_b64encode(raw).decode())
    # base64 without padding, as it appears when the value is embedded mid-stream
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    if "\n" in secret:
        forms.update(line.strip() for line in secret.splitlines() if len(line.strip()) >= MIN_LINE_LEN)
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


class Masker:
    """Replace every known secret value (in its common encodings) with `********`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret is None:
                continue
            secret = str(secret)
            if len(secret) >= MIN_SECRET_LEN:
                forms |= _forms(secret)
        # longest first, so a value is replaced whole and not by a secret it contains
        ordered = sorted(forms, key=lambda f: (-len(f), f))
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def mask(self, value: Any) -> Any:
        """Mask strings, recursively inside dicts, lists and tuples; other values pass through."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(MASK, value)
        if isinstance(value, dict):
            return {self.mask(k) if isinstance(k, str) else k: self.mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.mask(v) for v in value)
        return value

    def bytes_(self, data: bytes) -> bytes:
        """Mask UTF-8 text; binary data (not valid UTF-8) is returned unchanged."""
        if self._pattern is None:
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        return self.text(text).encode("utf-8")

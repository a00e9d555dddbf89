"""Masker: every known secret, in its common encodings, becomes ********."""

from __future__ import annotations

import base64
from urllib.parse import quote

from controller.jobs.masking import MASK, Masker


def test_masks_plain_url_encoded_and_base64_forms():
    secret = "p@ss word/+1"
    masker = Masker([secret])
    text = (f"plain {secret} url {quote(secret, safe='')} "
            f"b64 {base64.b64encode(secret.encode()).decode()}")

    assert masker.text(text) == f"plain {MASK} url {MASK} b64 {MASK}"


def test_masks_recursively_and_leaves_other_values():
    masker = Masker(["hunter22"])
    value = {"a": ["x hunter22 y", {"b": "hunter22"}], "n": 3, "hunter22": True}

    assert masker.mask(value) == {"a": [f"x {MASK} y", {"b": MASK}], "n": 3, MASK: True}


def test_ignores_short_and_empty_values():
    masker = Masker(["abc", "", None])

    assert not masker
    assert masker.text("abc abc") == "abc abc"


def test_longest_secret_wins_when_one_contains_another():
    masker = Masker(["token", "token-extended"])

    assert masker.text("token-extended and token") == f"{MASK} and {MASK}"


def test_lines_of_a_multiline_key_are_masked():
    key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n-----END KEY-----"
    masker = Masker([key])

    assert "AAAAB3NzaC1yc2EAAAADAQABAAABAQ" not in masker.text("line: AAAAB3NzaC1yc2EAAAADAQABAAABAQ")


def test_binary_bytes_pass_through():
    masker = Masker(["secret-value"])

    assert masker.bytes_(b"\xff\xfesecret-value") == b"\xff\xfesecret-value"
    assert masker.bytes_(b"x secret-value") == f"x {MASK}".encode()

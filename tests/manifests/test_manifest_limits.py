"""A manifest cannot exhaust memory: aliases, their expansion and the file's size are bounded (issue 11, item 6)."""

from __future__ import annotations

from controller.manifests import parse_manifest
from controller.manifests.yamltree import Limits
from tests.bench.bench_manifest_bomb import bomb

HEAD = "apiVersion: jarvis/v1\nname: web\n"
BACKUP = "backups:\n  - name: nightly\n    runbook: backup-db\n    schedule: '0 3 * * *'\n    with:\n"


def test_an_alias_bomb_is_refused_where_it_expands_before_anything_is_built():
    text = bomb(7)                      # 433 bytes, 9**7 strings once expanded
    assert len(text) < 600
    result = parse_manifest(text, "apps/web/orch.yaml")
    assert result.manifest is None
    (error,) = result.errors
    # line 12 is `e: &e [*d, ...]`, the first level past 50,000 values (9**5)
    assert (error.line, error.column) == (12, 10)
    assert str(error).startswith("apps/web/orch.yaml:12:10: manifest too large: this value expands to more "
                                 "than 50000 values through its aliases (JARVIS_MANIFEST_MAX_NODES)")


def test_too_many_aliases_and_a_recursive_alias_are_errors_with_a_position():
    many = HEAD + BACKUP + "      a: &a x\n      b: [" + ", ".join(["*a"] * 5) + "]\n"
    (error,) = parse_manifest(many, "orch.yaml", limits=Limits(max_aliases=4)).errors
    assert str(error).startswith("orch.yaml:9:10: manifest too large: more than 4 aliases in one manifest")
    loop = HEAD + BACKUP + "      a: &a [1, *a]\n"
    (error,) = parse_manifest(loop, "orch.yaml").errors
    assert (error.line, error.column) == (8, 10) and "an alias refers to a value that contains it" in error.message


def test_a_file_over_the_size_limit_is_refused_at_the_line_it_crosses():
    text = HEAD + "".join(f"# comment line {i:04d}\n" for i in range(1000))   # 20 bytes a line, after 32
    (error,) = parse_manifest(text, "orch.yaml", limits=Limits(max_bytes=1000)).errors
    assert (error.line, error.column) == (51, 9)   # 32 + 48 * 20 = 992, 8 more
    assert f"the manifest is {len(text)} bytes, larger than the limit of 1000 (JARVIS_MANIFEST_MAX_BYTES)" in error.message
    # the default limit (256 KiB) refuses the 5 MB file the issue saw accepted
    big = HEAD + "#" * 5_000_000 + "\n"
    assert "larger than the limit of 262144" in parse_manifest(big, "orch.yaml").errors[0].message


def test_ordinary_anchors_and_merge_keys_still_work():
    text = HEAD + BACKUP + "      common: &c {bucket: b, keep: 7}\n      db: {<<: *c, keep: 30}\n      again: *c\n"
    result = parse_manifest(text, "orch.yaml")
    assert result.ok, str(result)
    assert result.manifest.backups[0].with_ == {"common": {"bucket": "b", "keep": 7},
                                                "db": {"bucket": "b", "keep": 30},
                                                "again": {"bucket": "b", "keep": 7}}
    # an anchor inside a list, referred to from a later key
    later = HEAD + BACKUP + "      a: [&x 1]\n      b: *x\n"
    assert parse_manifest(later, "orch.yaml").ok

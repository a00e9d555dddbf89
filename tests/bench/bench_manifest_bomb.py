"""Benchmark: memory of the process that parses a YAML alias bomb (issue 11, item 6).

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_manifest_bomb [--levels 7]

A manifest of a few hundred bytes whose `backups[].with` nests `--levels` levels of nine aliases
each (9**levels strings once expanded). A fresh interpreter parses it as the sync loop does
(`parse_manifest`, then `model_dump(mode="json")` and `json.dumps`, which is what would be
stored) and prints its size, the outcome and the process's max RSS before and after.

The file name has no `test_` prefix so `pytest tests` does not collect it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
from controller.manifests import parse_manifest
text = sys.stdin.read()
before = rss()
result = parse_manifest(text, "orch.yaml")
stored = len(json.dumps(result.manifest.model_dump(mode="json"))) if result.manifest else 0
print(json.dumps({"bytes": len(text.encode()), "rss_before_mb": before, "rss_after_mb": rss(),
                  "stored_bytes": stored, "outcome": str(result)[:200]}))
"""


def bomb(levels: int) -> str:
    lines = ["apiVersion: jarvis/v1", "name: bomb", "backups:", "  - name: nightly", "    runbook: backup-db",
             "    schedule: '0 3 * * *'", "    with:",
             '      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"
    for prev, name in zip(names, names[1:levels], strict=False):
        lines.append(f"      {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, default=7)
    args = parser.parse_args()
    out = subprocess.run([sys.executable, "-c", CHILD], input=bomb(args.levels), capture_output=True,
                         text=True, check=True)
    print(json.dumps(json.loads(out.stdout), indent=2))


if __name__ == "__main__":
    main()

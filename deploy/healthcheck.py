#!/usr/bin/env python3
"""Container healthcheck: exit 0 when Jarvis answers GET /healthz on its own port, 1 otherwise.

The image has no curl; this runs with the image's Python and the standard library only, so it
costs one short-lived process per check. `--path /readyz` checks the database too.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jarvis-healthcheck")
    parser.add_argument("--path", default="/healthz", help="path to GET (default /healthz)")
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args(argv)
    url = f"http://127.0.0.1:{os.environ.get('JARVIS_PORT', '8080')}{args.path}"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as resp:  # noqa: S310 (fixed loopback URL)
            ok = resp.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if not ok:
        print(f"unhealthy: {url}: status {resp.status}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

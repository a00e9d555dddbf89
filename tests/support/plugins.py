"""Installs a test distribution (a target kind packaged on its own) the way a user would: with pip.

The venv has no build backend and no index is reachable, so the wheel is assembled here from the
distribution's pyproject.toml (name, version, entry points) and its packages, then `pip install
--target` puts it in a directory of its own. Putting that directory on sys.path "installs" the kind
for one test: importlib.metadata finds its entry points there, and only there.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

KINDS = Path(__file__).resolve().parents[1] / "kinds"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(project: Path, out: Path) -> Path:
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    name, version = meta["name"], meta["version"]
    dist = f"{name.replace('-', '_')}-{version}"
    files: dict[str, bytes] = {}
    for pkg in sorted(p for p in project.iterdir() if (p / "__init__.py").is_file()):
        for f in sorted(pkg.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                files[f.relative_to(project).as_posix()] = f.read_bytes()
    info = f"{dist}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 f"Summary: {meta.get('description', '')}\n").encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: jarvis-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items()) + "\n"
        for group, items in meta.get("entry-points", {}).items()).encode()
    record = [_record_line(n, b) for n, b in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return wheel


def install(project: Path, site: Path) -> Path:
    """pip-installs the distribution at `project` into `site` (nothing else is touched)."""
    wheel = build_wheel(project, site.parent)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True)
    return site


@contextlib.contextmanager
def on_path(site: Path) -> Iterator[None]:
    """The distributions in `site` are installed while the block runs."""
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()

"""The Hetzner emulator with real servers: containers of the local server image, reached over SSH.

The image is built once by `deploy/build-images.sh --test-server` (debootstrap, cached by tag: a
later run finds it and builds nothing). Tests that start servers hold the Docker lock file, so
two test runs on one machine never race on the engine.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulators.hetzner import HetznerEmulator
from tests.emulators.hetzner.machines import IMAGE, Machines

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def server_image() -> str:
    if not Machines().available():
        subprocess.run(["bash", str(ROOT / "deploy" / "build-images.sh"), "--test-server"], check=True)
    return IMAGE


@pytest.fixture
def hetzner(server_image) -> Iterator[HetznerEmulator]:
    emu = HetznerEmulator(action_delay=0.1).start()
    try:
        yield emu
    finally:
        emu.stop()
    assert not emu.violations, "traffic the Hetzner Cloud spec rejects:\n" + "\n".join(emu.violations)


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public: str


@pytest.fixture
def keypair(tmp_path) -> KeyPair:
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jarvis-test", "-f", str(path)], check=True)
    return KeyPair(path, (tmp_path / "id_ed25519.pub").read_text().strip())

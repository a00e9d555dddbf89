"""Portainer CE API emulator (auth, endpoints, Swarm stacks, Docker proxy to the real engine) for tests."""

from .server import PortainerEmulator
from .spec import SpecChecker

__all__ = ["PortainerEmulator", "SpecChecker"]

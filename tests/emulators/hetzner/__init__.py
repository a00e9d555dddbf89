"""Hetzner Cloud API emulator: real HTTP on loopback, real containers as servers."""

from .server import HetznerEmulator

__all__ = ["HetznerEmulator"]

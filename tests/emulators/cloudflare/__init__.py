"""Cloudflare API v4 emulator (zones, DNS records, batch, purge, token verify) for tests."""

from .server import CloudflareEmulator
from .spec import SpecChecker

__all__ = ["CloudflareEmulator", "SpecChecker"]

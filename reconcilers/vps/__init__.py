"""VPS servers: provisioning on Hetzner Cloud and hardening over SSH (issue 14).

`playbooks/harden.yml` hardens one server; `VpsReconciler` reconciles a manifest's `servers:`.
"""

from pathlib import Path

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"

from .reconciler import VpsReconciler  # noqa: E402  (the reconciler's modules read PLAYBOOKS)

__all__ = ["PLAYBOOKS", "VpsReconciler"]

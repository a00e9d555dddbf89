"""The Swarm reconciler: orch.yaml `services:` and `compose:` as Docker Swarm services."""

from reconcilers.swarm.reconciler import SwarmReconciler

__all__ = ["SwarmReconciler"]

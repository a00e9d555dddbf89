"""Portainer: the `stacks:` section of orch.yaml reconciled as Portainer Swarm stacks."""

from .reconciler import PortainerReconciler

__all__ = ["PortainerReconciler"]

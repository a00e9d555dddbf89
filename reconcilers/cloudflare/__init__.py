"""Cloudflare DNS: the `dns:` section of orch.yaml reconciled against Cloudflare's API v4."""

from .reconciler import CloudflareReconciler

__all__ = ["CloudflareReconciler"]

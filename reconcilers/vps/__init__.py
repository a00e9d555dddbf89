"""VPS servers: provisioning on Hetzner Cloud and hardening over SSH (issue 14, in progress).

For now this package holds the hardening playbooks (`playbooks/harden.yml`); the reconciler and
its `hetzner` connection type come with the contract's base class.
"""

from pathlib import Path

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"

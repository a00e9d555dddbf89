"""Hardening drift: harden.yml in check mode with diff, its events turned into one difference per
file or rule (`/etc/ssh/sshd_config`, `nftables table inet jarvis`, `fail2ban jail sshd`)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from controller.jobs.runner import RunSpec, run_playbook

from . import PLAYBOOKS

FIREWALL = "nftables table inet jarvis"
FAIL2BAN = "fail2ban jail sshd"


def _diffs(res: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out = [d for d in (res.get("diff") or []) if isinstance(d, Mapping)] if isinstance(res.get("diff"), list) else []
    if isinstance(res.get("diff"), Mapping):
        out.append(res["diff"])
    for item in res.get("results") or []:
        if isinstance(item, Mapping) and item.get("changed"):
            out += _diffs(item)
    return out


def _edited_lines(diff: Mapping[str, Any]) -> list[str]:
    before = str(diff.get("before") or "").splitlines()
    after = set(str(diff.get("after") or "").splitlines())
    return [ln.strip() for ln in before if ln.strip() and ln not in after]


def differences(events: list[dict]) -> dict[str, str]:
    """{file or rule: what differs} from a check run's events (on the server, not localhost)."""
    found: dict[str, str] = {}
    named_tasks: set[str] = set()   # loop tasks whose items named their files (item events come first)
    for e in events:
        data = e.get("event_data") or {}
        if e.get("event") not in ("runner_on_ok", "runner_item_on_ok") or data.get("host") == "localhost":
            continue
        res = data.get("res") or {}
        msg = str(res.get("msg", ""))
        if msg.startswith("firewall drift: "):
            found[FIREWALL] = msg.removeprefix("firewall drift: ")
            continue
        if msg.startswith("fail2ban drift: "):
            found[FAIL2BAN] = msg.removeprefix("fail2ban drift: ")
            continue
        if not res.get("changed"):
            continue
        named = False
        for d in _diffs(res):
            path = str(d.get("before_header") or d.get("after_header") or "")
            if path.startswith("/"):
                lines = _edited_lines(d)
                found[path] = ("hand edit: " + "; ".join(lines)) if lines else "differs from the policy"
                named = True
        if named:
            named_tasks.add(str(data.get("task")))
        if e.get("event") == "runner_on_ok" and not named and data.get("task") not in named_tasks and data.get("task") not in ("The live table inet jarvis", "Is fail2ban running with the sshd jail"):
            found.setdefault(str(data.get("task")), "would change")
    return found


def check(server: Mapping[str, Any], hardening: Mapping[str, Any], *, ssh_key: str, ssh_args: str,
          timeout: int = 240) -> tuple[str, dict[str, str], str]:
    """(status, differences, error): status `compliant`, `drifted` or `unknown` (the check failed)."""
    events: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="jarvis-vps-check-") as tmp:
        result = run_playbook(RunSpec(private_dir=Path(tmp), playbook=PLAYBOOKS / "harden.yml",
                                      extravars={"server": dict(server), "hardening": dict(hardening),
                                                 "ansible_ssh_common_args": ssh_args},
                                      ssh_key=ssh_key, check=True, timeout=timeout), on_event=events.append)
    if result.status != "success":
        first = (result.failures or [{}])[0]
        return "unknown", {}, str(first.get("message") or result.error or result.status)[:300]
    found = differences(events)
    return ("drifted" if found else "compliant"), found, ""

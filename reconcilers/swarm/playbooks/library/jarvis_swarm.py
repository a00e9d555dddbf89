#!/usr/bin/python
"""Ansible module: apply one Jarvis Swarm change (create/update/delete) and wait for convergence.

Runs on localhost with the venv's python (the playbook sets ansible_python_interpreter), so it
imports the reconciler package. `connection` is the job's `jarvis_connection`, passed on unchanged
(its secrets arrive in the environment; see controller.jobs.step_connection).
"""

from __future__ import annotations

import base64

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={
        "change": {"type": "dict", "required": True},
        "connection": {"type": "dict", "required": True},
        "data_b64": {"type": "str", "no_log": True},
        "timeout": {"type": "int", "default": 300},
    })
    from controller.jobs import step_connection
    from reconcilers.swarm.apply import apply_change
    from reconcilers.swarm.engine import client_for

    p = module.params
    try:
        client = client_for(step_connection.read(p["connection"]))
    except Exception as exc:  # connection problems are the step's failure, in words (naming the address)
        module.fail_json(msg=str(exc))
    data = base64.b64decode(p["data_b64"]) if p.get("data_b64") else None
    try:
        result = apply_change(client, p["change"], data, timeout=p["timeout"])
    finally:
        client.close()      # an ssh tunnel and the key material it wrote go with it
    summary = {k: result.get(k) for k in ("msg", "rolled_back", "task_errors") if k in result}
    if result.get("failed"):
        module.fail_json(changed=result.get("changed", False), summary=summary, **{
            k: v for k, v in result.items() if k not in ("failed", "changed")})
    module.exit_json(changed=result.get("changed", False), summary=summary,
                     **{k: v for k, v in result.items() if k not in ("failed", "changed")})


if __name__ == "__main__":
    main()

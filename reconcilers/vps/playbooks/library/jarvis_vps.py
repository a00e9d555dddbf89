#!/usr/bin/python
"""Ansible module: create, update (labels, protection, resize) or delete one Hetzner server and
pin its host key on first contact. The logic is `reconcilers.vps.ansible_module` (installed in the
python ansible runs modules with); its connection is the job's `jarvis_connection`, the token in
the environment (controller.jobs.step_connection)."""

from ansible.module_utils.basic import AnsibleModule


def main():
    from reconcilers.vps.ansible_module import ARGUMENT_SPEC, run

    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=False)
    result = run(module.params)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

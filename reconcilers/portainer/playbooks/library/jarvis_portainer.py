#!/usr/bin/python
"""Ansible module: create, update or delete one Portainer stack. The logic is
`reconcilers.portainer.ansible_module` (installed in the python ansible runs modules with); its
connection is the job's `jarvis_connection`, credentials in the environment."""

from ansible.module_utils.basic import AnsibleModule


def main():
    from reconcilers.portainer.ansible_module import ARGUMENT_SPEC, run

    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run(module.params, check_mode=module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

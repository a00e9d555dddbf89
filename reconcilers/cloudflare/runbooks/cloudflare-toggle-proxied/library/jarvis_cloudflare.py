#!/usr/bin/python
"""Ansible module shim: the same `jarvis_cloudflare` module the apply playbook uses (logic in
`reconcilers.cloudflare.ansible_module`; the API token comes from JARVIS_SECRET_API_TOKEN)."""

from ansible.module_utils.basic import AnsibleModule


def main():
    from reconcilers.cloudflare.ansible_module import ARGUMENT_SPEC, run

    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    result = run(module.params, check_mode=module.check_mode)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

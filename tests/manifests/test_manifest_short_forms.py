"""Short forms become the long form, so reconcilers read one shape from the dump."""

from __future__ import annotations

import textwrap

from controller.manifests import parse_manifest

HEAD = "apiVersion: jarvis/v1\nname: app\nconnections: {swarm: s, dns: d}\n"


def dump(body: str) -> dict:
    result = parse_manifest(HEAD + textwrap.dedent(body), "orch.yaml")
    assert result.errors == [], str(result)
    return result.manifest.model_dump(mode="json", exclude_none=True)


def service(body: str) -> dict:
    return dump("services:\n  web:\n" + textwrap.indent(textwrap.dedent(body), "    "))["services"]["web"]


def test_defaults_fill_the_top_level():
    out = dump("")
    assert out == {"apiVersion": "jarvis/v1", "name": "app", "environment": "default",
                   "policy": {"sync": "manual", "prune": False},
                   "connections": {"swarm": "s", "dns": "d"}, "ignore": [], "protected": []}


def test_env_list_and_scalar_values_become_a_string_map():
    assert service("image: x\nenv: [A=1, 'B=two=2', C=]\n")["env"] == {"A": "1", "B": "two=2", "C": ""}
    assert service("image: x\nenv: {PORT: 8080, DEBUG: true, RATIO: 0.5, EMPTY: }\n")["env"] == {
        "PORT": "8080", "DEBUG": "true", "RATIO": "0.5", "EMPTY": ""}
    assert service("image: x\nlabels: {tier: 1, public: false}\n")["labels"] == {"tier": "1", "public": "false"}


def test_command_and_args_strings_are_shell_split():
    out = service("image: x\ncommand: sh -c 'echo hello world'\nargs: [--port, 80]\n")
    assert out["command"] == ["sh", "-c", "echo hello world"]
    assert out["args"] == ["--port", "80"]


def test_ports_short_forms():
    out = service("image: x\nports: ['8080:80', '53:53/udp', 9000, 22:22, {target: 443, published: 8443, mode: host}]\n")
    assert out["ports"] == [
        {"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"},
        {"target": 53, "published": 53, "protocol": "udp", "mode": "ingress"},
        {"target": 9000, "protocol": "tcp", "mode": "ingress"},
        # YAML 1.1 would read an unquoted 22:22 as the base-60 number 1342; here it is a port mapping
        {"target": 22, "published": 22, "protocol": "tcp", "mode": "ingress"},
        {"target": 443, "published": 8443, "protocol": "tcp", "mode": "host"},
    ]


def test_volume_short_forms():
    out = service("image: x\nvolumes: [data:/var/lib/data, /srv/conf:/etc/conf:ro, ./site:/www, /cache]\n")
    assert out["volumes"] == [
        {"type": "volume", "source": "data", "target": "/var/lib/data", "read_only": False},
        {"type": "bind", "source": "/srv/conf", "target": "/etc/conf", "read_only": True},
        {"type": "bind", "source": "./site", "target": "/www", "read_only": False},
        {"type": "volume", "target": "/cache", "read_only": False},
    ]


def test_secret_and_config_attachments_short_form():
    out = dump("""\
        services:
          web: {image: x, secrets: [key, {source: cert, target: tls.pem, mode: 0400}], configs: [conf]}
        secrets:
          key: {from: "env:KEY"}
          cert: {from: "connection:vault-main/web/cert"}
        configs:
          conf: {content: "listen 80;"}
        """)
    web = out["services"]["web"]
    assert web["secrets"] == [{"source": "key"}, {"source": "cert", "target": "tls.pem", "mode": 0o400}]
    assert web["configs"] == [{"source": "conf"}]
    assert out["secrets"] == {"key": {"from": "env:KEY"}, "cert": {"from": "connection:vault-main/web/cert"}}


def test_replicas_default_to_one_and_are_absent_in_global_mode():
    assert service("image: x\n")["replicas"] == 1
    assert "replicas" not in service("image: x\nmode: global\n")


def test_healthcheck_string_runs_in_the_shell_and_durations_stay_strings():
    out = service("image: x\nhealthcheck: {test: 'curl -f localhost', interval: 1m30s, timeout: 500ms}\n")
    assert out["healthcheck"] == {"test": ["CMD-SHELL", "curl -f localhost"], "interval": "1m30s",
                                  "timeout": "500ms", "retries": 3, "start_period": "0s", "disable": False}


def test_memory_sizes_stay_strings():
    out = service("image: x\nresources: {limits: {cpus: 0.5, memory: 512M}, reservations: {memory: 1073741824}}\n")
    assert out["resources"] == {"limits": {"cpus": 0.5, "memory": "512M"}, "reservations": {"memory": "1073741824"}}


def test_a_single_dns_zone_becomes_a_list_and_ttl_one_means_auto():
    out = dump("""\
        dns:
          zone: example.com
          records:
            - {name: www, type: CNAME, content: lb.example.com, ttl: 1}
            - {name: "@", type: TXT, content: "hello", ttl: 300}
        """)
    assert out["dns"] == [{"zone": "example.com", "records": [
        {"name": "www", "type": "CNAME", "content": "lb.example.com", "proxied": False, "ttl": "auto",
         "adopt": False, "protected": False},
        {"name": "@", "type": "TXT", "content": "hello", "proxied": False, "ttl": 300,
         "adopt": False, "protected": False},
    ]}]


def test_a_list_of_dns_zones_is_kept():
    out = dump("dns:\n  - {zone: a.com, records: []}\n  - {zone: b.com}\n")
    assert [z["zone"] for z in out["dns"]] == ["a.com", "b.com"]


def test_compose_single_path_becomes_a_list_and_empty_network_gets_defaults():
    out = dump("compose: stacks/app.yml\nnetworks:\n  frontend:\n")
    assert out["compose"] == ["stacks/app.yml"]
    assert out["networks"] == {"frontend": {"driver": "overlay", "attachable": False, "external": False, "labels": {}}}


def test_backup_with_keeps_its_yaml_name():
    out = parse_manifest("apiVersion: jarvis/v1\nname: b\nbackups:\n"
                         "  - {name: n, runbook: backup-volume, schedule: '0 3 * * *', with: {volume: v, keep: 7}}\n",
                         "orch.yaml").manifest.model_dump(mode="json", exclude_none=True)
    assert out["backups"] == [{"name": "n", "runbook": "backup-volume", "schedule": "0 3 * * *",
                               "with": {"volume": "v", "keep": 7}}]

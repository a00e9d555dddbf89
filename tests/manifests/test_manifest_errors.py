"""Each kind of mistake is reported at the file:line:column a person wrote it, with a message that says what."""

from __future__ import annotations

import textwrap

from controller.manifests import parse_manifest

HEAD = "apiVersion: jarvis/v1\nname: web\nconnections: {swarm: prod-swarm, dns: cf-main}\n"


def errors(body: str, known: set[str] | None = None, head: str = HEAD) -> list[str]:
    result = parse_manifest(head + textwrap.dedent(body), "examples/web/orch.yaml", known)
    assert result.manifest is None, "bad input must not produce a manifest"
    return [str(e) for e in result.errors]


def test_invalid_yaml_points_at_the_syntax_error():
    result = parse_manifest("apiVersion: jarvis/v1\nname: [web\nservices: {}\n", "orch.yaml")
    assert [str(e) for e in result.errors] == [
        "orch.yaml:3:9: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2)"]


def test_tab_indentation_is_a_yaml_error_with_position():
    result = parse_manifest("apiVersion: jarvis/v1\nservices:\n\tweb: {}\n", "orch.yaml")
    (error,) = result.errors
    assert (error.line, error.column) == (3, 1)
    assert error.message.startswith("invalid YAML: found character that cannot start any token")


def test_a_manifest_that_is_not_a_mapping():
    assert [str(e) for e in parse_manifest("- web\n- api\n", "orch.yaml").errors] == [
        "orch.yaml:1:1: the manifest must be a mapping of keys, got a list"
        " — start with `apiVersion: jarvis/v1` and `name: <name>`"]


def test_an_empty_manifest():
    assert [str(e) for e in parse_manifest("# nothing yet\n", "orch.yaml").errors] == [
        "orch.yaml:1:1: the manifest is empty — start with `apiVersion: jarvis/v1` and `name: <name>`"]


def test_unknown_key_with_did_you_mean():
    assert errors("""\
        services:
          web:
            image: nginx:1.27
            replica: 2
        """) == ["examples/web/orch.yaml:7:5: unknown key 'replica' in services.web — did you mean 'replicas'?"]


def test_unknown_top_level_key_without_close_match():
    assert errors("colour: blue\n") == ["examples/web/orch.yaml:4:1: unknown key 'colour' at the top level"]


def test_wrong_type_points_at_the_value():
    assert errors("""\
        services:
          web:
            image: nginx:1.27
            replicas: two
        """) == ["examples/web/orch.yaml:7:15: services.web.replicas: expected integer, got string 'two'"]


def test_wrong_choice_lists_the_allowed_values():
    assert errors("policy: {sync: sometimes}\n") == [
        "examples/web/orch.yaml:4:16: policy.sync: expected 'auto', 'manual' or 'detect', got string 'sometimes'"]


def test_wrong_api_version():
    result = parse_manifest("apiVersion: jarvis/v2\nname: web\n", "orch.yaml")
    assert [str(e) for e in result.errors] == [
        "orch.yaml:1:13: apiVersion: expected 'jarvis/v1', got string 'jarvis/v2'"]


def test_missing_required_field_points_at_its_parent():
    assert errors("""\
        services:
          web:
            replicas: 2
        """) == ["examples/web/orch.yaml:5:3: missing required field 'image' in services.web"]


def test_missing_field_in_a_list_entry_points_at_the_entry():
    assert errors("""\
        dns:
          zone: example.com
          records:
            - {name: www, content: lb.example.com}
        """) == ["examples/web/orch.yaml:7:7: missing required field 'type' in dns.records[0]"]


def test_all_shape_errors_are_collected():
    assert errors("""\
        services:
          web: {image: nginx, replicas: -1}
          api: {image: api, ports: ["80:80", "eighty"]}
        """) == [
        "examples/web/orch.yaml:5:33: services.web.replicas: must be >= 0, got integer -1",
        "examples/web/orch.yaml:6:38: services.api.ports[1]: "
        "expected a port like '8080:80' or '8080:80/udp', got string 'eighty'",
    ]


def test_duplicate_yaml_keys_are_reported_at_the_second():
    assert errors("""\
        services:
          web:
            image: nginx:1.27
            image: nginx:1.26
        """) == ["examples/web/orch.yaml:7:5: duplicate key 'image' in services.web (first at line 6)"
                 " — YAML keeps only the last one; remove or merge them"]


def test_duplicate_top_level_key():
    assert errors("name: again\n") == [
        "examples/web/orch.yaml:4:1: duplicate key 'name' at the top level (first at line 2)"
        " — YAML keeps only the last one; remove or merge them"]


def test_duplicate_server_names():
    assert errors("""\
        servers:
          - {name: swarm-1, type: cx22, image: debian-12}
          - {name: swarm-1, type: cx22, image: debian-12}
        """, head=HEAD.replace("dns: cf-main", "servers: hetzner-main")) == [
        "examples/web/orch.yaml:6:12: duplicate server 'swarm-1' in servers (first at line 5)"]


def test_duplicate_stacks_backups_and_runbooks():
    assert errors("""\
        stacks:
          - {name: mon, endpoint: prod, compose: a.yml}
          - {name: mon, endpoint: prod, compose: b.yml}
        backups:
          - {name: nightly, runbook: backup-volume, schedule: "0 3 * * *"}
          - {name: nightly, runbook: backup-volume, schedule: "0 4 * * *"}
        runbooks:
          - path: runbooks/rotate
          - path: runbooks/rotate
        """, head=HEAD.replace("dns: cf-main", "stacks: portainer-main")) == [
        "examples/web/orch.yaml:6:12: duplicate stack 'mon' in stacks (first at line 5)",
        "examples/web/orch.yaml:9:12: duplicate backup 'nightly' in backups (first at line 8)",
        "examples/web/orch.yaml:12:11: duplicate runbook path 'runbooks/rotate' in runbooks (first at line 11)",
    ]


def test_duplicate_dns_records_by_name_type_and_content():
    assert errors("""\
        dns:
          zone: example.com
          records:
            - {name: "@", type: A, content: 203.0.113.10}
            - {name: www, type: A, content: 203.0.113.10}
            - {name: example.com, type: A, content: 203.0.113.10}
        """) == ["examples/web/orch.yaml:9:7: duplicate A record 'example.com' with content '203.0.113.10'"
                 " (first at line 7)"]


def test_dns_record_outside_its_zone():
    assert errors("""\
        dns:
          zone: example.com
          records:
            - {name: www.example.org., type: CNAME, content: lb.example.com}
        """) == ["examples/web/orch.yaml:7:14: record 'www.example.org.' is outside the zone 'example.com'"]


def test_undeclared_secret_and_config_references():
    assert errors("""\
        services:
          web:
            image: nginx
            secrets: [db_pasword]
            configs: [{source: nginx_conf, target: /etc/nginx/nginx.conf}]
        secrets:
          db_password: {from: "env:DB_PASSWORD"}
        """) == [
        "examples/web/orch.yaml:7:15: service 'web' uses secret 'db_pasword', which is not declared under "
        "`secrets:` — did you mean 'db_password'?",
        "examples/web/orch.yaml:8:24: service 'web' uses config 'nginx_conf', which is not declared under `configs:`",
    ]


def test_undeclared_network_with_did_you_mean_and_external_ones_allowed():
    assert errors("""\
        services:
          web: {image: nginx, networks: [frontend, backend, fronted]}
        networks:
          frontend: {}
          backend: {external: true}
        """) == ["examples/web/orch.yaml:5:53: service 'web' uses network 'fronted', which is not declared under "
                 "`networks:` — did you mean 'frontend'?"]


def test_unknown_network_without_close_match_explains_external():
    assert errors("services:\n  web: {image: nginx, networks: [traefik-public]}\n") == [
        "examples/web/orch.yaml:5:34: service 'web' uses network 'traefik-public', which is not declared under "
        "`networks:` — declare it; add `external: true` when it exists outside Jarvis"]


def test_unknown_connection_with_did_you_mean_over_known_names():
    assert errors("dns: {zone: example.com, records: []}\n", known={"prod-swarm", "cf-mains"}) == [
        "examples/web/orch.yaml:3:39: unknown connection 'cf-main' in connections.dns — did you mean 'cf-mains'?"
        " Or add a cloudflare connection named 'cf-main' in Settings → Connections"]


def test_unknown_connection_without_close_match_lists_known_names():
    assert errors("dns: {zone: example.com, records: []}\n", known={"prod-swarm", "cloudflare"}) == [
        "examples/web/orch.yaml:3:39: unknown connection 'cf-main' in connections.dns"
        " — known connections: cloudflare, prod-swarm; or add a cloudflare connection named 'cf-main' in Settings → Connections"]


def test_unknown_connection_on_a_new_install_says_which_type_to_add_and_where():
    assert errors("services: {web: {image: nginx}}\n", known=set()) == [
        "examples/web/orch.yaml:3:22: unknown connection 'prod-swarm' in connections.swarm"
        " — no connections are defined yet: add a docker connection named 'prod-swarm' in Settings → Connections",
        "examples/web/orch.yaml:3:39: unknown connection 'cf-main' in connections.dns"
        " — no connections are defined yet: add a cloudflare connection named 'cf-main' in Settings → Connections"]


def test_known_connections_are_accepted():
    result = parse_manifest(HEAD + "services: {web: {image: nginx}}\n", "orch.yaml", {"prod-swarm", "cf-main"})
    assert result.errors == [] and result.manifest is not None


def test_a_section_without_its_connection():
    head = "apiVersion: jarvis/v1\nname: web\n"
    assert errors("""\
        services:
          web: {image: nginx}
        servers:
          - {name: s1, type: cx22, image: debian-12}
        """, head=head) == [
        "examples/web/orch.yaml:3:1: 'services' needs connections.swarm (the docker connection it deploys through)"
        " — add `connections: {swarm: <connection name>}`",
        "examples/web/orch.yaml:5:1: 'servers' needs connections.servers (the hetzner connection it deploys through)"
        " — add `connections: {servers: <connection name>}`",
    ]


def test_an_inline_secret_value_is_refused_and_never_echoed():
    result = parse_manifest(HEAD + "secrets:\n  db: hunter2-very-secret\n  api: {value: s3cr3t-token}\n", "orch.yaml")
    text = str(result)
    assert "hunter2" not in text and "s3cr3t" not in text
    assert [(e.line, e.column) for e in result.errors] == [(5, 7), (6, 8)]
    assert result.errors[0].message.startswith("secrets.db: a secret is a reference, never a value")
    assert result.errors[1].message.startswith("secrets.api: a secret takes only `from` (got 'value')")


def test_a_secret_reference_with_an_unknown_scheme_is_refused_without_echo():
    result = parse_manifest(HEAD + "secrets:\n  db: {from: 'plain:hunter2'}\n", "orch.yaml")
    assert [str(e) for e in result.errors] == [
        "orch.yaml:5:14: secrets.db.from: `from` must be env:VAR, file:path/in/repo or connection:NAME/KEY"]


def test_invalid_durations_sizes_and_names():
    assert errors("""\
        services:
          Bad Name: {image: nginx}
          web:
            image: nginx
            healthcheck: {test: "true", interval: 30 seconds}
            resources: {limits: {memory: lots}}
        """) == [
        "examples/web/orch.yaml:5:3: services: invalid name 'Bad Name': use up to 63 letters, digits, '-', '_' or '.'",
        "examples/web/orch.yaml:8:43: services.web.healthcheck.interval: "
        "expected a duration like '30s', '1m30s' or '500ms', got string '30 seconds'",
        "examples/web/orch.yaml:9:34: services.web.resources.limits.memory: "
        "expected a size like '512M' or '1G', got string 'lots'",
    ]


def test_replicas_with_global_mode_is_refused():
    assert errors("services:\n  agent: {image: agent, mode: global, replicas: 2}\n") == [
        "examples/web/orch.yaml:5:10: services.agent: `replicas` cannot be set with mode global "
        "(one task runs on every node)"]


def test_a_non_string_key_is_an_unknown_key_at_its_position():
    assert errors("services:\n  web: {image: nginx, 8080: 80}\n") == [
        "examples/web/orch.yaml:5:23: unknown key 8080 in services.web"]


def test_yaml_base_60_numbers_are_not_applied_to_ports():
    result = parse_manifest(HEAD + "services:\n  web: {image: nginx, ports: [22:22]}\n", "orch.yaml")
    assert result.manifest.services["web"].ports[0].published == 22


def test_a_connection_reference_names_a_stored_connection_and_one_of_its_credentials():
    known = {"prod-swarm": frozenset(), "cf-main": frozenset(), "vault": frozenset({"token", "password"})}
    body = "services: {web: {image: 'nginx:1', secrets: [db]}}\nsecrets:\n  db: {from: \"connection:%s\"}\n"
    assert errors(body % "vualt/token", known=known) == [
        "examples/web/orch.yaml:6:14: secrets.db: unknown connection 'vualt' in 'connection:vualt/token'"
        " — did you mean 'vault'? Or add a connection named 'vualt' holding the credential 'token'"
        " in Settings → Connections"]
    assert errors(body % "vault/passwrd", known=known) == [
        "examples/web/orch.yaml:6:14: secrets.db: connection 'vault' has no credential 'passwrd'"
        " — did you mean 'password'?"]
    assert errors(body % "cf-main/token", known=known) == [
        "examples/web/orch.yaml:6:14: secrets.db: connection 'cf-main' has no credential 'token'"
        " — connection 'cf-main' has no credentials"]
    ok = parse_manifest(HEAD + body % "vault/password", "examples/web/orch.yaml", known)
    assert ok.errors == [] and ok.manifest is not None

"""Connection types, each declared once: a JSON Schema for its `config` (non-secret, shown) and one
for its `credentials` (write-only, sealed at rest), with descriptions and examples.

A reconciler declares the type it connects through in its own package, as `connection_schema` on
its class (a new kind brings its type with it, found through the `jarvis.reconcilers` entry points);
the types no reconciler owns (git hosts, servers over ssh) are declared here. Everything that needs
the types reads them from `installed()`: creating and changing a connection (`problems`), the API
(`GET /api/connection-types`), the Settings form, and the README's reference (`reference_markdown`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from controller import registry
from controller.backups import restic
from controller.contract import ConnectionCheck, ConnectionInfo
from controller.notifications import channels

log = logging.getLogger(__name__)
PARTS = ("config", "credentials")


def object_schema(properties: Mapping[str, Any] | None = None, required: Iterable[str] = (),
                  **extra: Any) -> dict[str, Any]:
    """A JSON Schema object that takes exactly `properties` (any other key is refused)."""
    return {"type": "object", "properties": dict(properties or {}), "required": list(required),
            "additionalProperties": False, **extra}


def secret(title: str, description: str, *, multiline: bool = False, **extra: Any) -> dict[str, Any]:
    """A credential: a non-empty string that is written, never read back (`writeOnly`)."""
    out = {"type": "string", "title": title, "minLength": 1, "writeOnly": True, "description": description, **extra}
    if multiline:      # a PEM block or a key file: the form offers a (masked) text area
        out["contentMediaType"] = "application/x-pem-file"
    return out


@dataclass(frozen=True)
class ConnectionType:
    name: str                     # the `type` of a connection: "docker", "cloudflare", ...
    title: str
    description: str
    config: Mapping[str, Any] = field(default_factory=object_schema)
    credentials: Mapping[str, Any] = field(default_factory=object_schema)
    # the connection test of a type no reconciler owns (a reconciler's type is tested by its `check`)
    check: Callable[[ConnectionInfo], ConnectionCheck] | None = None

    def schema(self, part: str) -> Mapping[str, Any]:
        return self.config if part == "config" else self.credentials

    def keys(self, part: str) -> list[str]:
        return list(self.schema(part).get("properties") or {})

    def problems(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> list[dict[str, str]]:
        """[{field, message}] for each key that is missing, unknown, in the wrong half or not valid.

        Messages never show a credential's value (nor a misplaced one's: it may be a secret)."""
        given = {"config": config, "credentials": credentials}
        out: list[dict[str, str]] = []
        misplaced: set[str] = set()
        for part, other in (("config", "credentials"), ("credentials", "config")):
            for key in given[part]:
                if key in self.keys(part):
                    continue
                if key in self.keys(other):
                    msg = f"{key} belongs in {other}, not {part}"
                    misplaced.add(key)
                else:
                    takes = ", ".join(self.keys(part)) or "nothing"
                    msg = f"{key} is not a {self.name} {part} key ({part} takes: {takes})"
                out.append({"field": f"{part}.{key}", "message": msg})
        for part in PARTS:
            schema = self.schema(part)
            for err in jsonschema.Draft202012Validator(schema).iter_errors(dict(given[part])):
                if err.validator == "additionalProperties":      # reported above, with where it belongs
                    continue
                problem = _problem(part, schema, err)
                if err.validator != "required" or problem["field"].split(".", 1)[1] not in misplaced:
                    out.append(problem)
        return out


def _problem(part: str, schema: Mapping[str, Any], err: jsonschema.ValidationError) -> dict[str, str]:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        key = err.message.split("'")[1]
        hint = (schema.get("properties", {}).get(key, {}).get("description") or "").split(". ")[0]
        hint = hint[:1].lower() + hint[1:]
        return {"field": f"{part}.{key}", "message": f"{key} is required in {part}" + (f": {hint}" if hint else "")}
    if err.validator == "dependentRequired":
        having, missing = next((k, [d for d in need if d not in err.instance])
                               for k, need in err.validator_value.items()
                               if k in err.instance and any(d not in err.instance for d in need))
        return {"field": f"{part}.{missing[0]}", "message": f"{having} needs {', '.join(missing)} in {part} too"}
    if err.validator == "anyOf" and not path and all(set(alt) == {"required"} for alt in err.validator_value):
        # alternative sets of keys (an access token, or a username and a password): name them
        ways = " or ".join(" and ".join(alt["required"]) for alt in err.validator_value)
        return {"field": part, "message": f"{part} needs {ways}"}
    prop = schema.get("properties", {}).get(path, {})
    if part == "credentials":      # the value is a secret: say what is wrong, never what it was
        what = {"type": f"must be a {err.validator_value}", "minLength": "must not be empty"}.get(
            err.validator, f"is not valid ({err.validator})")
    elif err.validator == "pattern" and prop.get("examples"):
        what = f"{err.instance!r} is not valid: e.g. {', '.join(map(str, prop['examples']))}"
    else:
        what = err.message
    return {"field": f"{part}.{path}" if path else part, "message": f"{path or part}: {what}"}


GITHUB = ConnectionType(
    name="github",
    title="GitHub (or any git host over https)",
    description="A token a source clones its repository over https with (sent as `x-access-token`).",
    credentials=object_schema({
        "token": secret("Token", "A fine-grained personal access token or app token with read access to the "
                        "repository's contents.", examples=["github_pat_…"]),
    }, required=["token"]),
)

SSH = ConnectionType(
    name="ssh",
    title="Servers (or a git host) over ssh",
    description="A private key for servers the runbooks reach over ssh, and for sources cloned over ssh.",
    config=object_schema({
        "known_hosts": {"type": "string", "title": "Host keys", "contentMediaType": "text/plain",
                        "description": "The servers' host keys, as known_hosts lines (`ssh-keyscan HOST`): "
                                       "pinned, every other key is refused. Without it the system's "
                                       "known_hosts decides.",
                        "examples": ["10.0.0.5 ssh-ed25519 AAAAC3Nza…"]},
        "host_key_checking": {"type": "boolean", "title": "Check host keys", "default": True,
                              "description": "False accepts any host key: only for throwaway test servers."},
        "ssh_user": {"type": "string", "title": "Git user", "default": "git", "minLength": 1,
                     "description": "User for a source cloned over ssh when its URL names none."},
    }),
    credentials=object_schema({
        "private_key": secret("Private key", "The private key, OpenSSH or PEM, without a passphrase.", multiline=True,
                              examples=["-----BEGIN OPENSSH PRIVATE KEY-----…"]),
    }, required=["private_key"]),
)

BACKUP_REPOSITORY = ConnectionType(
    name="backup-repository",
    title="Backup repository (restic)",
    description="A restic repository the backup runbooks write snapshots to and restore from: encrypted, "
                "deduplicated, with retention. The connection test runs `restic cat config`.",
    config=object_schema({
        "repository": {"type": "string", "title": "Repository", "minLength": 1,
                       "pattern": r"^(/|sftp:|s3:)",
                       "description": "Where the repository is: an absolute path on the controller host, "
                                      "`sftp:user@host:/path` (or `sftp://user@host:port//path`), or `s3:` "
                                      "followed by the endpoint and bucket.",
                       "examples": ["/var/backups/jarvis", "sftp:backup@10.0.0.9:/srv/restic",
                                    "s3:https://s3.eu-central-1.amazonaws.com/bucket/jarvis"]},
        "init": {"type": "boolean", "title": "Create when missing", "default": False,
                 "description": "True makes the connection test create (`restic init`) a repository that does "
                                "not exist yet. An existing repository is never touched."},
        "known_hosts": {"type": "string", "title": "Host keys", "contentMediaType": "text/plain",
                        "description": "For `sftp:`: the server's host keys as known_hosts lines, pinned. "
                                       "Without it the system's known_hosts decides.",
                        "examples": ["[10.0.0.9]:22 ssh-ed25519 AAAAC3Nza…"]},
        "s3_region": {"type": "string", "title": "S3 region", "minLength": 1,
                      "description": "For `s3:`: the bucket's region, when the endpoint needs one."},
    }, required=["repository"]),
    credentials=object_schema({
        "password": secret("Repository password", "The password restic encrypts the repository with. Keep a "
                           "copy outside Jarvis: without it no snapshot can be read."),
        "ssh_private_key": secret("SSH private key", "For `sftp:`: the private key (no passphrase) of the "
                                  "server's user.", multiline=True, examples=["-----BEGIN OPENSSH PRIVATE KEY-----…"]),
        "s3_access_key_id": secret("S3 access key id", "For `s3:`: the access key id."),
        "s3_secret_access_key": secret("S3 secret access key", "For `s3:`: the secret access key."),
    }, required=["password"], dependentRequired={"s3_access_key_id": ["s3_secret_access_key"],
                                                 "s3_secret_access_key": ["s3_access_key_id"]}),
    check=restic.check_connection,
)

ALERTMANAGER = ConnectionType(
    name="alertmanager",
    title="Alertmanager (alerts in)",
    description="An Alertmanager that posts its alerts to `POST /api/alerts/alertmanager`: a firing alert "
                "opens or updates an incident, a resolved one resolves it. In Alertmanager's receiver: "
                "`webhook_configs: [{url: https://JARVIS/api/alerts/alertmanager, send_resolved: true, "
                "http_config: {authorization: {credentials_file: …}}}]` with this connection's token.",
    config=object_schema({
        "url": {"type": "string", "title": "Alertmanager URL", "pattern": r"^https?://",
                "description": "Where operators open this Alertmanager (linked from its incidents).",
                "examples": ["https://alertmanager.example.com"]},
    }),
    credentials=object_schema({
        "token": secret("Bearer token", "The token Alertmanager sends (`Authorization: Bearer …`). At least 24 "
                        "characters; make one with `openssl rand -hex 32`.", minLength=24),
    }, required=["token"]),
)


# -- notification channels: a channel is a connection of a `notify-*` type (controller/notifications) --
_HTTP_URL = {"type": "string", "pattern": r"^https?://", "minLength": 8}

EMAIL = ConnectionType(
    name="notify-email",
    title="Email (SMTP) notification channel",
    description="Notifications sent as mail through an SMTP server (apprise). The connection test sends a "
                "test message.",
    config=object_schema({
        "host": {"type": "string", "title": "SMTP server", "minLength": 1, "description": "The SMTP server's host name.",
                 "examples": ["smtp.example.com"]},
        "port": {"type": "integer", "title": "Port", "minimum": 1, "maximum": 65535, "default": 587,
                 "description": "The SMTP port."},
        "security": {"type": "string", "title": "Security", "enum": ["starttls", "ssl", "none"], "default": "starttls",
                     "description": "starttls upgrades a plain connection, ssl is TLS from the start (465), none is "
                                    "plain SMTP (a relay on a trusted network only)."},
        "username": {"type": "string", "title": "User", "minLength": 1,
                     "description": "The SMTP user, when the server asks for one."},
        "from": {"type": "string", "title": "From", "pattern": "@", "description": "The sender address.",
                 "examples": ["jarvis@example.com"]},
        "to": {"type": "array", "title": "To", "minItems": 1, "items": {"type": "string", "pattern": "@"},
               "description": "The addresses notifications go to.", "examples": ["ops@example.com"]},
    }, required=["host", "from", "to"]),
    credentials=object_schema({
        "password": secret("Password", "The SMTP user's password."),
    }),
    check=channels.check_connection,
)

WEBHOOK = ConnectionType(
    name="notify-webhook",
    title="Signed webhook notification channel",
    description="Notifications POSTed as JSON (`event`, `title`, `body`, `environment`, `link`, `data`, "
                "`delivery_id`) and signed: `X-Jarvis-Signature: sha256=<hex HMAC-SHA256 of "
                "\"<X-Jarvis-Timestamp>.<raw body>\" under the secret>`; also `X-Jarvis-Event` and "
                "`X-Jarvis-Delivery`. A receiver recomputes it, compares in constant time and refuses an old "
                "timestamp. Any answer but 2xx is a failed delivery, retried.",
    config=object_schema({
        "url": {**_HTTP_URL, "title": "URL", "description": "Where the notifications are POSTed.",
                "examples": ["https://hooks.example.com/jarvis"]},
    }, required=["url"]),
    credentials=object_schema({
        "secret": secret("Signing secret", "The HMAC-SHA256 key the receiver checks the signature with. At least "
                         "16 characters; make one with `openssl rand -hex 32`.", minLength=16),
    }, required=["secret"]),
    check=channels.check_connection,
)

SLACK = ConnectionType(
    name="notify-slack",
    title="Slack notification channel",
    description="Notifications posted to a Slack channel through an incoming webhook (apprise).",
    credentials=object_schema({
        "webhook_url": secret("Incoming webhook URL", "The incoming webhook of a Slack app, which names the channel.",
                              pattern=r"^https://hooks\.slack\.com/services/",
                              examples=["https://hooks.slack.com/services/T000/B000/XXXX"]),
    }, required=["webhook_url"]),
    check=channels.check_connection,
)

DISCORD = ConnectionType(
    name="notify-discord",
    title="Discord notification channel",
    description="Notifications posted to a Discord channel through its webhook (apprise).",
    credentials=object_schema({
        "webhook_url": secret("Webhook URL", "The channel's webhook (Channel settings → Integrations → Webhooks).",
                              pattern=r"^https://(discord|discordapp)\.com/api/webhooks/",
                              examples=["https://discord.com/api/webhooks/1234/abcd"]),
    }, required=["webhook_url"]),
    check=channels.check_connection,
)

TELEGRAM = ConnectionType(
    name="notify-telegram",
    title="Telegram notification channel",
    description="Notifications sent by a Telegram bot to a chat (apprise).",
    config=object_schema({
        "chat_id": {"type": "string", "title": "Chat id", "minLength": 1,
                    "description": "The chat, group or channel the bot writes to (a number, or @channel).",
                    "examples": ["-1001234567890", "@ops_alerts"]},
    }, required=["chat_id"]),
    credentials=object_schema({
        "bot_token": secret("Bot token", "The bot's token from @BotFather.", examples=["123456:ABC-DEF…"]),
    }, required=["bot_token"]),
    check=channels.check_connection,
)

NTFY = ConnectionType(
    name="notify-ntfy",
    title="ntfy notification channel",
    description="Notifications published to an ntfy topic, on ntfy.sh or a server of your own (apprise).",
    config=object_schema({
        "url": {**_HTTP_URL, "title": "Server", "default": "https://ntfy.sh",
                "description": "The ntfy server.", "examples": ["https://ntfy.example.com"]},
        "topic": {"type": "string", "title": "Topic", "minLength": 1, "pattern": r"^[A-Za-z0-9_-]+$",
                  "description": "The topic subscribers follow.", "examples": ["jarvis-alerts"]},
        "priority": {"type": "string", "title": "Priority", "enum": ["min", "low", "default", "high", "max"],
                     "description": "The messages' priority."},
    }, required=["topic"]),
    credentials=object_schema({
        "token": secret("Access token", "An access token of a user who may publish to the topic."),
    }),
    check=channels.check_connection,
)

CHANNELS: tuple[ConnectionType, ...] = (EMAIL, WEBHOOK, SLACK, DISCORD, TELEGRAM, NTFY)
BUILTIN: tuple[ConnectionType, ...] = (GITHUB, SSH, BACKUP_REPOSITORY, ALERTMANAGER) + CHANNELS


def installed() -> dict[str, ConnectionType]:
    """Every connection type, by name: Jarvis's own and each installed reconciler's."""
    found = {t.name: t for t in BUILTIN}
    for kind, cls in sorted(registry.reconciler_classes().items()):
        declared = getattr(cls, "connection_schema", None)
        if not isinstance(declared, ConnectionType):
            log.error("reconciler %s declares no connection_schema: its %s connections cannot be made",
                      kind, getattr(cls, "connection_type", "?"))
            continue
        if found.setdefault(declared.name, declared) is not declared:
            log.error("reconciler %s declares connection type %s again; the first declaration stays",
                      kind, declared.name)
    return dict(sorted(found.items()))


def reference_markdown(types: Mapping[str, ConnectionType]) -> str:
    """README's connection reference: one table per type (`jarvis connection-types`)."""
    out = []
    for t in types.values():
        out += [f"#### `{t.name}`: {t.title}", "", t.description, "",
                "| key | in | required | meaning | example |", "| --- | --- | --- | --- | --- |"]
        for part in PARTS:
            schema = t.schema(part)
            for key, prop in (schema.get("properties") or {}).items():
                meaning = prop.get("description", "")
                if "default" in prop:
                    meaning += f" Default: `{json.dumps(prop['default'])}`."
                example = ", ".join(f"`{e}`" for e in prop.get("examples", [])) or "—"
                required = "yes" if key in schema.get("required", []) else "no"
                out.append(f"| `{key}` | {part} | {required} | {meaning} | {example} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"

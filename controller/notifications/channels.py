"""Channels: where notifications go. A channel is a connection of a `notify-*` type (declared with the
other types in `controller/connection_types.py`), so its secrets are sealed like every credential.

Email, Slack, Discord, Telegram and ntfy are sent through apprise (one client for all of them: each is
turned into an apprise URL here, and apprise speaks the service's API). The generic webhook is sent
here, with httpx, because it is signed and apprise cannot sign a body:

    POST <url>   Content-Type: application/json
    X-Jarvis-Event: incident.opened
    X-Jarvis-Delivery: 42
    X-Jarvis-Timestamp: 1767225600
    X-Jarvis-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the connection's secret>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares it in constant time
(`verify_signature`), and refuses a timestamp older than it accepts (a replayed call).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import apprise
import httpx

from controller.contract import ConnectionCheck, ConnectionInfo

log = logging.getLogger(__name__)
PREFIX = "notify-"
TIMEOUT_S = 10
SIGNATURE_HEADER = "X-Jarvis-Signature"
TIMESTAMP_HEADER = "X-Jarvis-Timestamp"


class DeliveryError(Exception):
    """A channel refused or could not be reached; the message says which and why (never a secret)."""


@dataclass(frozen=True)
class Message:
    event: str                  # incident.opened, job.failed, ..., or "test"
    title: str
    body: str
    environment: str = ""
    link: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    delivery_id: int | None = None

    def text(self) -> str:
        return self.body + (f"\n\n{self.link}" if self.link else "")

    def payload(self) -> dict[str, Any]:
        return {"event": self.event, "title": self.title, "body": self.body, "environment": self.environment,
                "link": self.link, "data": dict(self.data), "delivery_id": self.delivery_id}


def is_channel(conn_type: str) -> bool:
    return conn_type.startswith(PREFIX)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def send(conn: ConnectionInfo, msg: Message) -> str:
    """Sends `msg` to the channel; what the channel answered, or DeliveryError saying why not."""
    try:
        if conn.type == "notify-webhook":
            return _webhook(conn, msg)
        return _apprise(conn, msg)
    except DeliveryError as exc:
        raise DeliveryError(_masked(str(exc), conn)) from None


def check_connection(conn: ConnectionInfo) -> ConnectionCheck:
    """The connection test of a channel: "Send a test" (a real message, marked as a test)."""
    msg = Message(event="test", title="Jarvis test notification",
                  body=f"A test sent to the channel {conn.name}: if you read this, notifications reach you.")
    try:
        answer = send(conn, msg)
    except DeliveryError as exc:
        return ConnectionCheck(False, str(exc))
    return ConnectionCheck(True, f"test notification sent to {conn.name}: {answer}")


# -- the signed webhook ------------------------------------------------------------------------------
def _webhook(conn: ConnectionInfo, msg: Message) -> str:
    url = str(conn.config["url"])
    body = json.dumps(msg.payload(), separators=(",", ":"), sort_keys=True).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "jarvis-notifications",
               "X-Jarvis-Event": msg.event, "X-Jarvis-Delivery": str(msg.delivery_id or ""),
               TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(conn.secrets["secret"], ts, body)}
    where = _where(url)
    try:
        r = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {where} could not be reached: {exc.__class__.__name__}: {exc}") from None
    if r.status_code >= 300:
        raise DeliveryError(f"webhook {where} answered {r.status_code}: {r.text[:200]}")
    return f"webhook {where} answered {r.status_code}"


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


# -- through apprise ---------------------------------------------------------------------------------
def apprise_url(conn: ConnectionInfo) -> str:
    """The apprise URL of a channel connection (it holds the channel's secrets: never shown or logged)."""
    c, s = conn.config, conn.secrets
    q = lambda v: quote(str(v), safe="")   # noqa: E731
    if conn.type == "notify-email":
        auth = ""
        if c.get("username"):
            auth = f"{q(c['username'])}{':' + q(s['password']) if s.get('password') else ''}@"
        mode = c.get("security", "starttls")
        params = {"smtp": c["host"], "from": c["from"], "to": ",".join(c["to"])}
        if mode != "none":
            params["mode"] = mode
        scheme = "mailto" if mode == "none" else "mailtos"
        return f"{scheme}://{auth}{q(c['host'])}:{int(c.get('port', 587))}?{urlencode(params)}"
    if conn.type in ("notify-slack", "notify-discord"):
        return str(s["webhook_url"])        # apprise takes both services' own webhook URLs as they are
    if conn.type == "notify-telegram":
        return f"tgram://{q(s['bot_token'])}/{q(c['chat_id'])}"
    if conn.type == "notify-ntfy":
        base = urlsplit(str(c.get("url") or "https://ntfy.sh"))
        scheme = "ntfys" if base.scheme == "https" else "ntfy"
        auth = f"{q(s['token'])}@" if s.get("token") else ""
        params = {"priority": c["priority"]} if c.get("priority") else {}
        return f"{scheme}://{auth}{base.netloc}/{q(c['topic'])}" + (f"?{urlencode(params)}" if params else "")
    raise DeliveryError(f"{conn.type} is not a notification channel type")


def _apprise(conn: ConnectionInfo, msg: Message) -> str:
    sender = apprise.Apprise()
    if not sender.add(apprise_url(conn)):
        raise DeliveryError(f"{conn.type} channel {conn.name}: its settings do not make a valid address")
    for server in sender:
        server.socket_connect_timeout = server.socket_read_timeout = TIMEOUT_S
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = sender.notify(body=msg.text(), title=msg.title)
    if not ok:
        said = " ".join(line.split(" - ", 2)[-1].strip() for line in captured.getvalue().splitlines() if line.strip())
        raise DeliveryError(f"{conn.type} channel {conn.name} ({_address(conn)}) failed: "
                            f"{said[:500] or 'no reason given'}")
    return f"{conn.type.removeprefix(PREFIX)} accepted the message"


def _address(conn: ConnectionInfo) -> str:
    """Where a channel sends, without its secrets."""
    c = conn.config
    if conn.type == "notify-email":
        return f"{c.get('host')}:{c.get('port', 587)}"
    if conn.type == "notify-ntfy":
        return f"{c.get('url') or 'https://ntfy.sh'}/{c.get('topic')}"
    if conn.type == "notify-telegram":
        return f"chat {c.get('chat_id')}"
    return conn.type.removeprefix(PREFIX)


def _masked(text: str, conn: ConnectionInfo) -> str:
    for value in conn.secrets.values():
        if value and len(str(value)) >= 4:
            text = text.replace(str(value), "[redacted]").replace(quote(str(value), safe=""), "[redacted]")
    return text

"""A GitOps world with a Cloudflare target: the gitops fixtures' repository, source and file store
(tests/gitops/conftest.py World), plus a Cloudflare connection to an emulator and a manifest that
declares two records of example.com next to a stack."""

from __future__ import annotations

import socket
import textwrap

from sqlalchemy import select

from controller import connections
from controller.runtime import Runtime
from controller.store.models import DriftItem
from reconcilers.cloudflare.normalise import owner_marker
from tests.cloudflare.conftest import TOKEN
from tests.gitops.conftest import World

RECORDS = ("record/www.example.com/A", "record/example.com/TXT")   # the keys of with_dns()'s records


class Site(World):
    """The World's repository and file store, plus a Cloudflare connection to the emulator."""

    def __init__(self, rt: Runtime, tmp, emulator, token: str = TOKEN) -> None:
        super().__init__(rt, tmp)
        self.cf = f"cf-{self.conn_name}"
        with rt.db.session() as db:
            conn = connections.create(db, rt.secrets, name=self.cf, type="cloudflare", environment="test",
                                      config={"base_url": emulator.url}, credentials={"api_token": token},
                                      created_by="test")
            self.cf_id = conn.id
        self.target = f"cloudflare:{self.cf}"

    def with_dns(self, zones: str = "") -> str:
        return textwrap.dedent(f"""\
            apiVersion: jarvis/v1
            name: app
            policy: {{sync: manual, prune: false}}
            connections: {{filestore: {self.conn_name}, dns: {self.cf}}}
            dns:
              - zone: example.com
                records:
                  - {{name: www, type: A, content: 192.0.2.10}}
                  - {{name: "@", type: TXT, content: "v=spf1 -all"}}
            """) + zones + "filestore:\n  - {name: web, endpoint: prod, compose: c.yml}\n"

    def drift(self) -> dict[str, tuple[str, str]]:
        """(status, error) by resource ('' for a target's own error row) of this source's Cloudflare target."""
        with self.rt.db.session() as s:
            rows = s.scalars(select(DriftItem).where(DriftItem.source_id == self.source_id,
                                                     DriftItem.target == self.target))
            return {d.resource: (d.status, d.error) for d in rows}


def seed_in_sync(emulator, source: str) -> None:
    """The declared records of example.com, already made by this manifest (owner marker in the comment)."""
    mine = owner_marker(source, "app")
    emulator.seed("example.com", type="A", name="www.example.com", content="192.0.2.10", ttl=1, proxied=False,
                  comment=mine)
    emulator.seed("example.com", type="TXT", name="example.com", content="v=spf1 -all", ttl=1, comment=mine)


def closed_address() -> str:
    with socket.socket() as s:   # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/client/v4"

"""The production Cloudflare API v4 client: envelopes, pagination, batches, retries.

One `httpx.Client` per instance. A `429` waits for `Retry-After`; a `5xx` or a dropped
connection is retried with exponential backoff. Every HTTP call is counted (`calls`,
`calls_by`) so apply results and the benchmark can report them. The token is only ever put in
the Authorization header: it is never logged or part of an exception message.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
BATCH_LIMIT = 200          # operations per /dns_records/batch call on every plan (Free: 200)
RETRY_AFTER_CAP = 60.0
ZONES_PER_PAGE = 50        # the most GET /zones allows     # never sleep longer than this on one 429


class CloudflareError(Exception):
    """An API call that failed: HTTP status and Cloudflare's error list ({code, message})."""

    def __init__(self, status: int, errors: list[Mapping[str, Any]], what: str):
        self.status = status
        self.errors = list(errors)
        self.codes = {int(e.get("code", 0)) for e in self.errors if str(e.get("code", "")).isdigit()}
        text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in self.errors) or f"HTTP {status}"
        super().__init__(f"{what}: {text}")


class ZoneNotFound(CloudflareError):
    pass


@dataclass
class BatchOps:
    """One batch body. Cloudflare runs deletes, patches, puts, posts in that order."""

    deletes: list[dict[str, Any]] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    puts: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.deletes) + len(self.patches) + len(self.puts) + len(self.posts)

    def body(self) -> dict[str, Any]:
        return {k: v for k, v in (("deletes", self.deletes), ("patches", self.patches),
                                  ("puts", self.puts), ("posts", self.posts)) if v}


def chunk_ops(ops: BatchOps, limit: int = BATCH_LIMIT) -> list[BatchOps]:
    """Split into batches of at most `limit`, keeping deletes before updates before creates
    across batches too (each batch takes the next `limit` operations of that global order)."""
    flat = ([("deletes", o) for o in ops.deletes] + [("patches", o) for o in ops.patches]
            + [("puts", o) for o in ops.puts] + [("posts", o) for o in ops.posts])
    out: list[BatchOps] = []
    for i in range(0, len(flat), limit):
        b = BatchOps()
        for kind, op in flat[i:i + limit]:
            getattr(b, kind).append(op)
        out.append(b)
    return out


class CloudflareClient:
    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL, *, max_retries: int = 5,
                 backoff: float = 0.5, timeout: float = 30.0, per_page: int = 5000):
        if not token:
            raise ValueError("a Cloudflare API token is required")
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.per_page = per_page
        self.calls = 0
        self.calls_by: Counter[str] = Counter()
        self.pages_read = 0
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}",
                                           "Content-Type": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudflareClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, label: str = "") -> dict[str, Any]:
        """One API call with retries; returns the whole envelope of a successful answer."""
        what = f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            self.calls_by[label or f"{method} {path}"] += 1
            try:
                resp = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                if attempt > self.max_retries:
                    raise CloudflareError(0, [{"code": 0, "message": type(exc).__name__}], what) from None
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if resp.status_code == 429 and attempt <= self.max_retries:
                time.sleep(_retry_after(resp.headers.get("Retry-After"), self.backoff * 2 ** (attempt - 1)))
                continue
            if resp.status_code >= 500 and attempt <= self.max_retries:
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            try:
                env = resp.json()
            except ValueError:
                env = {"success": False, "errors": [{"code": resp.status_code, "message": resp.text[:200]}]}
            if resp.status_code >= 400 or not env.get("success", False):
                cls = ZoneNotFound if resp.status_code == 404 and "/dns_records" not in path else CloudflareError
                raise cls(resp.status_code, env.get("errors") or [], what)
            return env

    def _paged(self, path: str, params: Mapping[str, Any] | None, label: str,
               per_page: int | None = None) -> list[dict[str, Any]]:
        per_page = per_page or self.per_page
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            env = self.request("GET", path, params={**(params or {}), "page": page, "per_page": per_page},
                               label=label)
            self.pages_read += 1
            items = env.get("result") or []
            out.extend(items)
            info = env.get("result_info") or {}
            total_pages = info.get("total_pages")
            if total_pages is None and info.get("total_count") is not None:
                total_pages = -(-int(info["total_count"]) // max(int(info.get("per_page") or 1), 1))
            if not items or (total_pages is not None and page >= total_pages) or (
                    total_pages is None and len(items) < per_page):
                return out
            page += 1

    # -- account and zones ---------------------------------------------------------------
    def verify_token(self) -> dict[str, Any]:
        return self.request("GET", "/user/tokens/verify")["result"]

    def zones(self, name: str | None = None) -> list[dict[str, Any]]:
        return self._paged("/zones", {"name": name} if name else None, "GET /zones", per_page=ZONES_PER_PAGE)

    def zone(self, name: str) -> dict[str, Any]:
        found = [z for z in self.zones(name) if z.get("name", "").lower() == name.lower()]
        if not found:
            raise ZoneNotFound(404, [{"code": 1001, "message": f"zone {name} is not visible to this token"}],
                               f"GET /zones?name={name}")
        return found[0]

    def purge_cache(self, zone_id: str, files: Iterable[str] | None = None) -> dict[str, Any]:
        files = list(files or [])
        body = {"files": files} if files else {"purge_everything": True}
        return self.request("POST", f"/zones/{zone_id}/purge_cache", json=body,
                            label="POST /zones/:id/purge_cache")["result"]

    # -- DNS records -----------------------------------------------------------------------
    def list_records(self, zone_id: str, **filters: Any) -> list[dict[str, Any]]:
        return self._paged(f"/zones/{zone_id}/dns_records", filters, "GET /zones/:id/dns_records")

    def create_record(self, zone_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/zones/{zone_id}/dns_records", json=dict(body),
                            label="POST /zones/:id/dns_records")["result"]

    def get_record(self, zone_id: str, record_id: str) -> dict[str, Any]:
        return self.request("GET", f"/zones/{zone_id}/dns_records/{record_id}",
                            label="GET /zones/:id/dns_records/:rid")["result"]

    def patch_record(self, zone_id: str, record_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", f"/zones/{zone_id}/dns_records/{record_id}", json=dict(body),
                            label="PATCH /zones/:id/dns_records/:rid")["result"]

    def put_record(self, zone_id: str, record_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/zones/{zone_id}/dns_records/{record_id}", json=dict(body),
                            label="PUT /zones/:id/dns_records/:rid")["result"]

    def delete_record(self, zone_id: str, record_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"/zones/{zone_id}/dns_records/{record_id}",
                            label="DELETE /zones/:id/dns_records/:rid")["result"]

    def batch(self, zone_id: str, ops: BatchOps) -> dict[str, Any]:
        """One atomic batch (all operations apply or none do); at most BATCH_LIMIT operations."""
        if len(ops) > BATCH_LIMIT:
            raise ValueError(f"a batch holds at most {BATCH_LIMIT} operations, got {len(ops)}")
        return self.request("POST", f"/zones/{zone_id}/dns_records/batch", json=ops.body(),
                            label="POST /zones/:id/dns_records/batch")["result"]


def _retry_after(header: str | None, fallback: float) -> float:
    try:
        return min(max(float(header), 0.0), RETRY_AFTER_CAP) if header is not None else fallback
    except ValueError:
        return fallback

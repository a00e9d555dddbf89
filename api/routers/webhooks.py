"""POST /api/webhooks/github: signed push events request a sync of the sources they touch.

The signature (HMAC-SHA256 of the raw body with a source's secret) is checked before anything
in the body is read: an unsigned request is refused and leaves no delivery row, so it can
neither fill the table nor claim a delivery id. A verified delivery is recorded once; its id
counts as a duplicate only when it succeeded, so GitHub's redelivery of a failed one is processed.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import DbDep, RuntimeDep, require
from api.routers.sources import webhook_secret
from controller.gitops.globs import matches
from controller.gitops.service import wake
from controller.gitops.webhooks import (
    WebhookError,
    load_payload,
    normalise_repo_url,
    parse_push,
    repo_matches,
    repository_of,
    verify_signature,
)
from controller.store.models import Source, WebhookDelivery, utcnow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def _answer(db, delivery: WebhookDelivery, status: int, message: str, **extra) -> JSONResponse:
    delivery.status, delivery.result = status, message[:500]
    db.add(delivery)
    try:
        db.commit()
    except IntegrityError:   # the same delivery raced in twice: the first one counts
        db.rollback()
        return JSONResponse({"detail": "duplicate delivery ignored", "duplicate": True}, status_code=200)
    return JSONResponse({"detail": message, **extra}, status_code=status)


@router.post("/github", dependencies=[Depends(require("public"))])
async def github(request: Request, db: DbDep, rt: RuntimeDep):
    body = await request.body()
    event = request.headers.get("x-github-event", "")
    delivery_id = request.headers.get("x-github-delivery", "")
    request.state.audit = {"action": "webhooks.github", "target": f"delivery/{delivery_id[:100]}"}
    if not delivery_id:
        return JSONResponse({"detail": "missing X-GitHub-Delivery"}, status_code=400)
    signature = request.headers.get("x-hub-signature-256")
    verified = [s for s in db.scalars(select(Source).where(Source.webhook_secret.is_not(None)).order_by(Source.id))
                if (sec := webhook_secret(rt, s)) and verify_signature(sec, body, signature)]
    if not verified:
        return JSONResponse({"detail": "signature does not match any source's webhook secret"}, status_code=401)

    delivery = db.scalar(select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id[:100]))
    if delivery is not None and 0 < delivery.status < 400:
        return JSONResponse({"detail": "duplicate delivery ignored", "duplicate": True}, status_code=200)
    if delivery is None:
        delivery = WebhookDelivery(delivery_id=delivery_id[:100])
    delivery.event, delivery.received_at, delivery.repository, delivery.source_ids = event[:50], utcnow(), "", []
    try:
        payload = load_payload(body)
        repo = repository_of(payload)
        push = parse_push(payload) if event == "push" else None
    except WebhookError as exc:
        return _answer(db, delivery, 400, f"malformed {event or 'webhook'} payload: {exc}")
    delivery.repository = str(repo.get("full_name", ""))[:300]

    candidates = [s for s in verified if _same_repo(s.url, repo, push)]
    if not candidates:
        return _answer(db, delivery, 404, f"no source with this webhook secret is configured for repository "
                                          f"{delivery.repository or '?'}")
    delivery.source_ids = [s.id for s in candidates]
    if event == "ping":
        return _answer(db, delivery, 200, "pong", zen=str(payload.get("zen", "")))
    if event != "push":
        return _answer(db, delivery, 202, f"event {event!r} ignored")
    synced = []
    for src in candidates:
        if not src.enabled or push.branch != src.branch:
            continue
        if push.paths is not None and not (any(matches(p, src.paths) for p in push.paths)
                                           or push.paths & set(src.watched_files or [])):
            continue
        src.sync_requested_at, src.sync_reason = utcnow(), "webhook"
        synced.append(src.name)
    message = f"sync requested for {', '.join(synced)}" if synced else "push does not touch any manifest"
    answer = _answer(db, delivery, 202, message, sources=synced)
    if synced:
        wake(rt)   # after the commit: the stamps are visible to the controller
    return answer


def _same_repo(url: str, repo: dict, push) -> bool:
    if push is not None:
        return repo_matches(url, push)
    mine = normalise_repo_url(url)
    return mine is not None and mine in {normalise_repo_url(str(repo.get(k, ""))) for k in
                                         ("clone_url", "ssh_url", "html_url", "git_url", "url")}

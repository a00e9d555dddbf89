"""WS /ws/jobs/{id}?after=N — a job's events without gaps or repeats, then one final `end`.

Events travel in batches, `{"type": "events", "events": [...]}`, consecutive counters each; a
batch is serialised once and sent as one frame to every watcher it suits. Order of work: subscribe
to the live bus first, then send the stored events after the cursor, then live batches (skipping
what was already sent, filling any gap from the database). `end` goes out only once every event up
to the job's last counter has been sent. A client too slow for its bounded buffer is told
`{"type": "resume", "after": N}` and closed; it reconnects from N. The caller's session is checked
at connect and every `SESSION_CHECK_S` while open: once it ends (logout, password change, a reused
refresh token) the socket is told `{"type": "error", "detail": "session ended: ..."}` and closed
with code 4401 and that reason.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from urllib.parse import urlparse

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import ACCESS_COOKIE
from api.instruments import WS_WATCHERS
from api.schemas.common import Counter, Id
from controller.accounts import liveness
from controller.errors import JarvisError
from controller.jobs.events import public_event
from controller.jobs.service import JobsService
from controller.security.tokens import TokenError, decode_access_token
from controller.store.models import FINAL, Job, JobEvent, User

log = logging.getLogger(__name__)
router = APIRouter()
BUFFER = 2_000         # batches buffered per watcher before it is told to resume
PAGE = 1_000
POLL_S = 2.0           # also checks the table, in case the end was published where this process can't hear
SESSION_CHECK_S = 0.4  # with liveness's cache, an ended session closes its sockets within a second


def _authenticate(ws: WebSocket) -> tuple[int, str] | None:
    """(user id, session id) of a caller whose session is open, else None."""
    rt = ws.app.state.runtime
    auth = ws.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ws.query_params.get("token")
    via_cookie = False
    if not token:
        token, via_cookie = ws.cookies.get(ACCESS_COOKIE), True
    if not token:
        return None
    if via_cookie:
        # cross-site WebSocket hijacking: a cookie session must come from our own pages
        origin = ws.headers.get("origin")
        if origin and not hmac.compare_digest(urlparse(origin).netloc, ws.headers.get("host", "")):
            return None
    try:
        claims = decode_access_token(rt.jwt_key, rt.settings.jwt_issuer, token)
    except TokenError:
        return None
    if claims.scope != "full" or liveness.for_runtime(rt).end_reason(claims.sid):
        return None
    with rt.db.session() as s:
        user = s.get(User, claims.user_id)
        return (user.id, claims.sid) if user and user.active else None


def _events(rt, job_id: int, after: int, upto: int | None = None) -> list[dict]:
    with rt.db.session() as s:
        q = select(JobEvent.counter, JobEvent.type, JobEvent.host, JobEvent.task, JobEvent.stdout, JobEvent.created,
                   JobEvent.data).where(JobEvent.job_id == job_id, JobEvent.counter > after)
        if upto is not None:
            q = q.where(JobEvent.counter <= upto)
        rows = s.execute(q.order_by(JobEvent.counter).limit(PAGE)).mappings().all()
    return [public_event(dict(r)) for r in rows]


def _job_state(rt, job_id: int) -> tuple[str, int] | None:
    with rt.db.session() as s:
        row = s.execute(select(Job.status, Job.last_counter).where(Job.id == job_id)).first()
    return (row[0], row[1]) if row else None


async def accept_watcher(ws: WebSocket) -> tuple[int, str] | None:
    """Accepts the socket; (user id, session id) of its caller, or None once told "not authenticated"
    and closed with 4401. Every log stream (jobs, /ws/logs) starts so."""
    try:
        caller = await run_in_threadpool(_authenticate, ws)
    except JarvisError:
        caller = None
    await ws.accept()
    if caller is None:
        await ws.send_json({"type": "error", "detail": "not authenticated"})
        await ws.close(code=4401)
    return caller


class SessionCheck:
    """Checks the caller's session at most every SESSION_CHECK_S; raises SessionEnded once it ended."""

    def __init__(self, rt, sid: str) -> None:
        self.checker, self.sid = liveness.for_runtime(rt), sid
        self.next_check = time.monotonic() + SESSION_CHECK_S

    def due_in(self) -> float:
        return max(0.01, self.next_check - time.monotonic())

    async def __call__(self) -> None:
        if time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + SESSION_CHECK_S
        reason = await run_in_threadpool(self.checker.end_reason, self.sid)
        if reason:
            raise SessionEnded(reason)


async def close_ended(ws: WebSocket, ended: SessionEnded) -> None:
    await ws.send_json({"type": "error", "detail": f"session ended: {ended}"})
    await ws.close(code=4401, reason=f"session ended: {ended}"[:120])


@router.websocket("/ws/jobs/{job_id}")
async def job_stream(ws: WebSocket, job_id: Id, after: Counter = 0):
    # both bounded by their schema: a value no column can hold is closed with the reason (api/errors.py)
    rt = ws.app.state.runtime
    caller = await accept_watcher(ws)
    if caller is None:
        return
    state = await run_in_threadpool(_job_state, rt, job_id)
    if state is None:
        await ws.send_json({"type": "error", "detail": f"job {job_id} not found"})
        await ws.close(code=4404)
        return

    overflow = asyncio.Event()
    sub = await JobsService.of(rt).bus.subscribe(job_id, overflow.set, BUFFER)
    cursor = max(0, after)
    WS_WATCHERS.inc()
    check_session = SessionCheck(rt, caller[1])    # between frames, however busy the job
    next_poll = time.monotonic() + POLL_S

    async def send_stored(upto: int | None = None) -> None:
        nonlocal cursor
        while True:
            batch = await run_in_threadpool(_events, rt, job_id, cursor, upto)
            if batch:
                await ws.send_json({"type": "events", "events": batch})
                cursor = batch[-1]["counter"]
            if len(batch) < PAGE:
                return

    async def finish(status: str, last: int) -> None:
        await send_stored(last)
        await ws.send_json({"type": "end", "status": status, "last_counter": cursor})
        await ws.close()

    try:
        await send_stored()
        status, last = await run_in_threadpool(_job_state, rt, job_id)
        if status in FINAL and cursor >= last:
            await finish(status, last)
            return
        await ws.send_json({"type": "status", "status": status})
        while True:
            await check_session()
            try:
                msg = await asyncio.wait_for(sub.get(), timeout=check_session.due_in())
            except TimeoutError:
                if overflow.is_set():
                    raise _Overflow() from None
                if time.monotonic() < next_poll:
                    continue
                next_poll = time.monotonic() + POLL_S
                status, last = await run_in_threadpool(_job_state, rt, job_id)
                if status in FINAL:
                    await finish(status, last)
                    return
                await send_stored()     # events this process's bus did not carry (another API replica)
                continue
            if overflow.is_set():
                raise _Overflow()
            kind = msg.get("type")
            if kind == "events":
                events = msg["events"]
                if not events or events[-1]["counter"] <= cursor:
                    continue
                if events[0]["counter"] > cursor + 1:
                    await send_stored(events[0]["counter"] - 1)
                if events[0]["counter"] == cursor + 1:
                    await ws.send_text(_encoded(msg))       # the whole batch: encoded once for everyone
                else:
                    await ws.send_json({"type": "events", "events": [e for e in events if e["counter"] > cursor]})
                cursor = events[-1]["counter"]
            elif kind == "end":
                await finish(msg["status"], msg["last_counter"])
                return
            else:
                await ws.send_json(msg)
    except _Overflow:
        await ws.send_json({"type": "resume", "after": cursor})
        await ws.close(code=4000)
    except SessionEnded as ended:
        await close_ended(ws, ended)
    except WebSocketDisconnect:
        pass
    finally:
        WS_WATCHERS.dec()
        sub.close()


class _Overflow(Exception):
    pass


class SessionEnded(Exception):
    pass


def _encoded(msg: dict) -> str:
    """A bus message's JSON text, made once and shared by every watcher that sends it whole."""
    text = msg.get("_json")
    if text is None:
        text = msg["_json"] = json.dumps({k: v for k, v in msg.items() if k != "_json"}, default=str)
    return text

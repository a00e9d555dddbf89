"""WS /ws/logs?source=&selector=&q=&regex=&after=&limit= — a log followed live, without gaps or repeats.

The query is GET /api/logs's (reconcilers.logs), the rules the job log's (api/ws.py): the caller is
authenticated at connect and their session checked every SESSION_CHECK_S (an ended session: an
`error` frame, close 4401); lines travel in batches, `{"type": "lines", "lines": [...], "cursor": C}`,
each batch's cursor where its last line stands. Without `after`, the stream starts with the last
`limit` lines; with it, with the first line after that cursor. The source is read again from the
cursor every FOLLOW_S (reconcilers.logs.follow: a task's line that reaches the log late is given
late, not lost); a watcher whose unsent lines pass BUFFER (a client slower than its log) gets
what fits, then `{"type": "resume", "after": C}`, and is closed (4000): it reconnects from C and
loses nothing. A bad selector or filter: an `error` frame with the one error shape, then close 1008.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from api.errors import WS_POLICY_VIOLATION
from api.instruments import WS_WATCHERS
from api.schemas.logs import CURSOR_PATTERN, Source
from api.ws import SessionCheck, SessionEnded, accept_watcher, close_ended
from controller.errors import Invalid, JarvisError
from reconcilers import logs

router = APIRouter()
FOLLOW_S = 0.5       # how often the source is read again from the cursor
BUFFER = 20_000      # lines read but not yet sent, per watcher, before it is told to resume
PAGE = 1_000         # lines per frame


def _open(rt, source: str, selector: str) -> logs.Target:
    with rt.db.session() as db:
        return logs.resolve(db, rt.secrets, source, selector)


def _wire(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**line, "time": line["time"].isoformat() if line["time"] else None} for line in lines]


@router.websocket("/ws/logs")
async def log_stream(ws: WebSocket, source: Source, selector: str = Query(min_length=1, max_length=300),
                     q: str | None = Query(None, max_length=logs.Q_MAX), regex: bool = False,
                     after: str | None = Query(None, pattern=CURSOR_PATTERN),
                     limit: int = Query(200, ge=1, le=logs.LIMIT_MAX)):
    rt = ws.app.state.runtime
    caller = await accept_watcher(ws)
    if caller is None:
        return
    try:
        target = await run_in_threadpool(_open, rt, source, selector)
        match = logs.matcher(q, regex)
        if after is not None:
            cursor = logs.Cursor.parse(after)
        else:
            first = await run_in_threadpool(lambda: logs.query(target, rt.db, q=q, regex=regex, limit=limit))
            cursor = logs.Cursor.parse(first["cursor"])
            await ws.send_json({"type": "lines", "lines": _wire(first["lines"]), "cursor": first["cursor"]})
    except JarvisError as exc:
        body = {"detail": exc.message, "code": exc.code, **({"errors": exc.errors} if isinstance(exc, Invalid) else {})}
        await ws.send_json({"type": "error", **body})
        await ws.close(code=WS_POLICY_VIOLATION if exc.status < 500 else 1011, reason=exc.message[:120])
        return

    WS_WATCHERS.inc()
    check_session = SessionCheck(rt, caller[1])
    follower = logs.Follower(target, rt.db, cursor)
    closed = asyncio.ensure_future(ws.receive())     # the client's close, noticed while waiting
    try:
        while True:
            await check_session()
            done, _ = await asyncio.wait({closed}, timeout=min(FOLLOW_S, check_session.due_in()))
            if done:
                if closed.result().get("type") == "websocket.disconnect":
                    return
                closed = asyncio.ensure_future(ws.receive())     # a client's message means nothing here
            try:
                new, overflow = await run_in_threadpool(follower.poll, BUFFER)
            except JarvisError as exc:         # the engine went away for a moment: said, then tried again
                await ws.send_json({"type": "warning", "detail": exc.message})
                continue
            for start in range(0, len(new), PAGE):
                page = new[start:start + PAGE]
                batch = [logs.shown(line) for line, _ in page if match is None or match(line["text"])]
                if batch:
                    await ws.send_json({"type": "lines", "lines": _wire(batch), "cursor": str(page[-1][1])})
            if overflow:
                await ws.send_json({"type": "resume", "after": str(follower.cursor)})
                await ws.close(code=4000)
                return
    except SessionEnded as ended:
        await close_ended(ws, ended)
    except WebSocketDisconnect:
        pass
    finally:
        closed.cancel()
        WS_WATCHERS.dec()

"""The live bus: job events, step and status changes, fanned out to WebSocket watchers.

In-memory when embedded (the worker runs in the API process), Redis pub/sub in the full stack.
Messages go out only after they are stored, so a watcher that misses one can read it back
from the database: the bus is for speed, the table for completeness.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol


def channel(job_id: int) -> str:
    return f"jarvis:job:{job_id}"


class Subscription(Protocol):
    async def get(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class Bus(Protocol):
    def publish(self, job_id: int, messages: list[dict[str, Any]]) -> None: ...
    async def subscribe(self, job_id: int, on_overflow: Callable[[], None], maxsize: int) -> Subscription: ...


class _MemorySub:
    def __init__(self, bus: MemoryBus, job_id: int, maxsize: int, on_overflow: Callable[[], None]) -> None:
        self.bus, self.job_id = bus, job_id
        self.loop = asyncio.get_running_loop()
        self.q: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self.on_overflow = on_overflow
        self.overflowed = False

    def offer(self, msgs: list[dict[str, Any]]) -> None:   # runs in the event loop, one call per batch
        for msg in msgs:
            if self.overflowed:
                return
            try:
                self.q.put_nowait(msg)
            except asyncio.QueueFull:
                self.overflowed = True
                self.on_overflow()

    async def get(self) -> dict[str, Any]:
        return await self.q.get()

    def close(self) -> None:
        self.bus._remove(self)


class MemoryBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[int, set[_MemorySub]] = defaultdict(set)

    def publish(self, job_id: int, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            subs = list(self._subs.get(job_id, ()))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, messages)
            except RuntimeError:   # its event loop is gone
                self._remove(sub)

    async def subscribe(self, job_id: int, on_overflow: Callable[[], None], maxsize: int) -> _MemorySub:
        sub = _MemorySub(self, job_id, maxsize, on_overflow)
        with self._lock:
            self._subs[job_id].add(sub)
        return sub

    def _remove(self, sub: _MemorySub) -> None:
        with self._lock:
            self._subs.get(sub.job_id, set()).discard(sub)
            if not self._subs.get(sub.job_id):
                self._subs.pop(sub.job_id, None)


class _RedisSub:
    def __init__(self, pubsub, maxsize: int, on_overflow: Callable[[], None]) -> None:
        self.pubsub = pubsub
        self.q: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self.on_overflow = on_overflow
        self.overflowed = False
        self.task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        async for raw in self.pubsub.listen():
            if raw.get("type") != "message" or self.overflowed:
                continue
            for msg in json.loads(raw["data"]):
                try:
                    self.q.put_nowait(msg)
                except asyncio.QueueFull:
                    self.overflowed = True
                    self.on_overflow()
                    break

    async def get(self) -> dict[str, Any]:
        return await self.q.get()

    def close(self) -> None:
        self.task.cancel()
        asyncio.get_running_loop().create_task(self._close())

    async def _close(self) -> None:
        try:
            await self.pubsub.aclose()
        except Exception:
            pass


class RedisBus:
    def __init__(self, client, url: str) -> None:
        self.r = client
        self.url = url
        self._async = None

    def publish(self, job_id: int, messages: list[dict[str, Any]]) -> None:
        try:
            self.r.publish(channel(job_id), json.dumps(messages, default=str))
        except Exception:
            pass   # watchers fall back to the database; a bus outage never fails a job

    async def subscribe(self, job_id: int, on_overflow: Callable[[], None], maxsize: int) -> _RedisSub:
        import redis.asyncio as aioredis

        if self._async is None:
            self._async = aioredis.Redis.from_url(self.url)
        pubsub = self._async.pubsub()
        await pubsub.subscribe(channel(job_id))
        return _RedisSub(pubsub, maxsize, on_overflow)

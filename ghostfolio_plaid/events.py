"""Live events: what changed, published on Redis pub/sub, forwarded to GraphQL subscriptions.

Every process that changes a sync job or an item (an API process, a worker, the demo's single process) publishes
a small JSON event on its owner's channel, ``gp:events:<user_id>``: ``{"kind": "sync_job" | "item", "id", "at"}``.
Events name what changed and carry nothing else: a subscription reads the row again and answers it as a query
would, so an event can neither leak a secret nor show a caller what it may not read.

Publishing never fails the operation that changed the row: Redis down, the event is dropped (logged once) and
publishing pauses for ``PAUSE_AFTER_FAILURE_SECONDS``; a subscriber then learns the bus is gone from its own
connection (see :class:`EventHub`) and ends with ``UNAVAILABLE``.

Each API process keeps one pub/sub connection (:class:`EventHub`): it subscribes to a user's channel while that
user has at least one open subscription in the process and fans each event out to the local listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ghostfolio_plaid.errors import RateLimited, Unavailable
from ghostfolio_plaid.redis_connections import is_memory, sync_redis

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "gp:events:"
PAUSE_AFTER_FAILURE_SECONDS = 5.0
PUBLISH_TIMEOUT_SECONDS = 1.0
SUBSCRIBE_TIMEOUT_SECONDS = 5.0
UNAVAILABLE_MESSAGE = (
    "Live updates are unavailable (the event bus, Redis, cannot be reached); queries still work: "
    "read the object with a query, and subscribe again later"
)
EventKind = Literal["sync_job", "item"]


def channel(user_id: str) -> str:
    return CHANNEL_PREFIX + user_id


@dataclass(frozen=True)
class Event:
    kind: str
    id: str
    at: float

    @classmethod
    def parse(cls, data: bytes | str) -> Event | None:
        try:
            raw = json.loads(data)
            return cls(kind=str(raw["kind"]), id=str(raw["id"]), at=float(raw.get("at", 0.0)))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live event")
            return None


# --- publishing -----------------------------------------------------------------------------------------------


class _Publisher:
    """One synchronous Redis client per process (thread-safe, fork-safe), used from a thread so the event loop
    never waits on Redis; ``memory://`` publishes inline (the demo's in-process Redis)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self._client: Redis | None = None
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def configure(self, url: str) -> None:
        with self._lock:
            if url != self.url:
                self.url, self._client, self._paused_until = url, None, 0.0

    def client(self) -> Redis:
        with self._lock:
            if self.url is None:
                self.url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
            if self._client is None:
                if is_memory(self.url):
                    self._client = sync_redis(self.url)
                else:
                    self._client = Redis.from_url(
                        self.url, socket_timeout=PUBLISH_TIMEOUT_SECONDS, socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS
                    )
            return self._client

    async def publish(self, user_id: str, payload: dict[str, Any]) -> None:
        if time.monotonic() < self._paused_until:
            return
        try:
            client = self.client()
            message = json.dumps(payload)
            if self.url is not None and is_memory(self.url):
                client.publish(channel(user_id), message)
            else:
                await asyncio.to_thread(client.publish, channel(user_id), message)
        except Exception as exc:  # never fail the change itself because nobody could be told
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
            log.warning("live event not published (%s); publishing paused for %ss", type(exc).__name__, 5)


_publisher = _Publisher()
_owners: OrderedDict[str, str] = OrderedDict()
"""Item id -> its user's id (an item never changes owner), so a sync job's event costs no query per page."""
_OWNERS_KEPT = 10_000


def configure(redis_url: str) -> None:
    """Publish on this Redis (processes that do not call it read ``REDIS_URL``)."""
    _publisher.configure(redis_url)


async def publish(user_id: str, kind: EventKind, object_id: str | uuid.UUID) -> None:
    await _publisher.publish(user_id, {"kind": kind, "id": str(object_id), "at": time.time()})


async def publish_item(item: Any) -> None:
    """``item``: a PlaidItem (anything with ``id`` and ``user_id``) whose state changed."""
    _remember_owner(str(item.id), str(item.user_id))
    await publish(str(item.user_id), "item", item.id)


async def publish_item_id(item_id: str | uuid.UUID) -> None:
    owner = await _owner(str(item_id))
    if owner is not None:
        await publish(owner, "item", item_id)


async def publish_sync_job(job: Any) -> None:
    """``job``: a SyncJob whose state changed (its progress, or its end)."""
    owner = await _owner(str(job.plaid_item_id))
    if owner is not None:
        await publish(owner, "sync_job", job.id)


def _remember_owner(item_id: str, user_id: str) -> None:
    _owners[item_id] = user_id
    _owners.move_to_end(item_id)
    while len(_owners) > _OWNERS_KEPT:
        _owners.popitem(last=False)


async def _owner(item_id: str) -> str | None:
    if (owner := _owners.get(item_id)) is not None:
        return owner
    from ghostfolio_plaid.models import PlaidItem

    try:
        found = await PlaidItem.filter(id=item_id).values_list("user_id", flat=True)
    except Exception:
        log.warning("live event not published: the item's owner could not be read", exc_info=True)
        return None
    if not found:
        return None
    _remember_owner(item_id, str(found[0]))
    return str(found[0])


# --- subscribing ----------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Listener:
    """One open subscription's inbox. ``None`` in the queue means the bus failed."""

    user_id: str
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)

    async def next(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise Unavailable(UNAVAILABLE_MESSAGE)
        return event

    def drain(self) -> list[Event]:
        """Events already waiting (a subscription reads the row once for all of them)."""
        events: list[Event] = []
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if event is None:
                raise Unavailable(UNAVAILABLE_MESSAGE)
            events.append(event)
        return events


def hub_redis(url: str) -> AsyncRedis:
    """The hub's pub/sub connection: no silent reconnects (events sent meanwhile would be lost unseen), and a
    health check so a dead connection is noticed."""
    if is_memory(url):
        from ghostfolio_plaid.redis_connections import async_redis

        return async_redis(url)
    return AsyncRedis.from_url(
        url,
        socket_connect_timeout=2,
        socket_keepalive=True,
        health_check_interval=10,
        retry=Retry(NoBackoff(), 0),
    )


class EventHub:
    """One API process's subscriptions: one Redis pub/sub connection, channels subscribed on demand."""

    def __init__(self, connect: Callable[[], AsyncRedis], *, max_per_user: int = 20) -> None:
        self._connect = connect
        self.max_per_user = max_per_user
        self._redis: AsyncRedis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: dict[str, set[Listener]] = {}
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self.delivered = 0

    @classmethod
    def for_url(cls, url: str, *, max_per_user: int = 20) -> EventHub:
        return cls(lambda: hub_redis(url), max_per_user=max_per_user)

    def open_subscriptions(self, user_id: str | None = None) -> int:
        if user_id is not None:
            return len(self._listeners.get(user_id, ()))
        return sum(len(listeners) for listeners in self._listeners.values())

    @contextlib.asynccontextmanager
    async def listen(self, user_id: str) -> AsyncIterator[Listener]:
        """Subscribed once this is entered (Redis confirmed it): an event published afterwards is received."""
        if self.open_subscriptions(user_id) >= self.max_per_user:
            raise RateLimited(f"At most {self.max_per_user} open subscriptions per user; complete one first")
        listener = Listener(user_id)
        self._listeners.setdefault(user_id, set()).add(listener)
        try:
            await self._subscribe(user_id)
            yield listener
        finally:
            listeners = self._listeners.get(user_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[user_id]
                    await self._unsubscribe(user_id)

    async def _subscribe(self, user_id: str) -> None:
        name = channel(user_id)
        async with self._lock:
            try:
                pubsub = await self._ensure_connected()
                if name.encode() in pubsub.channels or name in pubsub.channels:
                    return
                confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._confirmations[name] = confirmed
                await pubsub.subscribe(name)
                await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT_SECONDS)
            except Unavailable:
                raise
            except Exception as exc:
                log.warning("live updates unavailable: cannot subscribe (%s)", type(exc).__name__)
                await self._fail()
                raise Unavailable(UNAVAILABLE_MESSAGE) from None
            finally:
                self._confirmations.pop(name, None)

    async def _unsubscribe(self, user_id: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe(channel(user_id))

    async def _ensure_connected(self) -> PubSub:
        if self._pubsub is None:
            self._redis = self._connect()
            self._pubsub = self._redis.pubsub()
            self._reader = asyncio.create_task(self._read(self._pubsub), name="live-events-reader")
        return self._pubsub

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                if not pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                name = message["channel"]
                name = name.decode() if isinstance(name, bytes) else str(name)
                if message["type"] == "subscribe":
                    confirmed = self._confirmations.get(name)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
                elif message["type"] == "message":
                    self._dispatch(name, message["data"])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("live updates interrupted: the Redis pub/sub connection failed (%s)", type(exc).__name__)
            self._reader = None
            await self._fail()

    def _dispatch(self, name: str, data: bytes | str) -> None:
        event = Event.parse(data)
        if event is None:
            return
        for listener in self._listeners.get(name.removeprefix(CHANNEL_PREFIX), ()):
            listener.queue.put_nowait(event)
            self.delivered += 1

    async def _fail(self) -> None:
        """Tell every listener the bus is gone and forget the connection: the next subscription reconnects."""
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.queue.put_nowait(None)
        for confirmed in self._confirmations.values():
            if not confirmed.done():
                confirmed.set_exception(ConnectionError("the pub/sub connection failed"))
                confirmed.exception()  # its waiter, if still waiting, sees it; if not, nothing is logged
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        pubsub, redis, reader = self._pubsub, self._redis, self._reader
        self._pubsub = self._redis = self._reader = None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()

    async def close(self) -> None:
        await self._drop_connection()

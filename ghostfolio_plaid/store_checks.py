"""Reaching PostgreSQL, Redis and Ghostfolio when a command starts, so that what is down is one clear line.

Without these checks a refused connection surfaces as a traceback of fifty lines from deep inside a driver.
A store is named by its host and port only: URLs may carry a password, and messages end up in terminals and
log collectors. The drivers are loaded when a check runs: ``cli`` imports ``StoreUnreachable`` for every
command, ``--help`` included.

PostgreSQL and Redis are needed to do anything, so a command stops without them. Ghostfolio is not: pushes
wait in the outbox and are retried until it answers, so its check only says, once, in the log, whether it does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ghostfolio_plaid.errors import ServiceError

if TYPE_CHECKING:
    import asyncpg

    from ghostfolio_plaid.config import Settings

log = logging.getLogger(__name__)
GHOSTFOLIO_CHECK_SECONDS = 5.0
"""The start-up check waits at most this long (or ``GHOSTFOLIO_TIMEOUT_SECONDS`` if shorter)."""

POSTGRES_PORT = 5432
REDIS_PORT = 6379
CONNECT_TIMEOUT_SECONDS = 5.0


class StoreUnreachable(ServiceError):
    """A store a command needs does not answer (or refuses the login); the command stops with status 2."""


def address(url: str, default_port: int) -> str:
    """``host:port`` of a store's URL, without user or password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port or default_port}"


def postgres_dsn(database_url: str, database: str | None = None) -> str:
    """asyncpg's form of ``DATABASE_URL`` (Tortoise's own options dropped), optionally for another database."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path if database is None else "/" + database, "", ""))


async def connect_postgres(database_url: str, database: str | None = None) -> asyncpg.Connection:
    """A connection, or ``StoreUnreachable`` naming the server; errors about the database itself pass through."""
    import asyncpg

    where = address(database_url, POSTGRES_PORT)
    try:
        connection: asyncpg.Connection = await asyncpg.connect(
            postgres_dsn(database_url, database), timeout=CONNECT_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError) as exc:
        raise StoreUnreachable(
            f"PostgreSQL at {where} is unreachable ({type(exc).__name__}); check DATABASE_URL and the server"
        ) from None
    except asyncpg.InvalidAuthorizationSpecificationError as exc:
        raise StoreUnreachable(
            f"PostgreSQL at {where} refused the login ({type(exc).__name__}); check DATABASE_URL"
        ) from None
    except asyncpg.PostgresConnectionError as exc:
        raise StoreUnreachable(
            f"PostgreSQL at {where} does not accept connections ({type(exc).__name__}); try again shortly"
        ) from None
    return connection


async def check_postgres(database_url: str) -> None:
    """The server answers; a database that does not exist yet counts as reachable (``migrate`` creates it)."""
    import asyncpg

    if database_url.startswith("sqlite://"):
        return
    try:
        connection = await connect_postgres(database_url)
    except asyncpg.InvalidCatalogNameError:
        return
    await connection.close()


def check_redis(redis_url: str) -> None:
    """Redis answers PING (the in-process ``memory://`` always does)."""
    from redis import Redis
    from redis.exceptions import RedisError

    from ghostfolio_plaid.redis_connections import is_memory

    if is_memory(redis_url):
        return
    client = Redis.from_url(
        redis_url, socket_timeout=CONNECT_TIMEOUT_SECONDS, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except RedisError as exc:
        raise StoreUnreachable(
            f"Redis at {address(redis_url, REDIS_PORT)} is unreachable ({type(exc).__name__}); check REDIS_URL"
        ) from None
    finally:
        client.close()


def public_url(url: str) -> str:
    """``url`` without a user or password, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def ghostfolio_problem(settings: Settings) -> str | None:
    """Why Ghostfolio's ``/api/v1/health`` does not answer 2xx, or None when it does."""
    from ghostfolio_plaid.errors import GhostfolioRefused, GhostfolioUnavailable
    from ghostfolio_plaid.ghostfolio.client import GhostfolioClient

    assert settings.ghostfolio_url is not None
    timeout = min(settings.ghostfolio_timeout_seconds, GHOSTFOLIO_CHECK_SECONDS)
    client = GhostfolioClient(settings.ghostfolio_url, settings.jwt_secret_key, timeout_seconds=timeout)
    where = public_url(settings.ghostfolio_url)
    try:
        await client.health()
    except GhostfolioUnavailable as exc:
        reason = str(exc).removeprefix("Ghostfolio ")
        return f"Ghostfolio at {where} does not answer ({reason}); pushes will be retried until it does"
    except GhostfolioRefused as exc:
        return (
            f"Ghostfolio at {where} refused its health check ({exc.status}: {exc.message}); check GHOSTFOLIO_URL, "
            "pushes will fail until it names Ghostfolio"
        )
    finally:
        await client.aclose()
    return None


async def report_ghostfolio(settings: Settings) -> None:
    """With the connector on, log whether Ghostfolio answers; never stops the command (see the docstring)."""
    if settings.ghostfolio_url is None:
        return
    problem = await ghostfolio_problem(settings)
    if problem is None:
        log.info("Ghostfolio at %s answers; pushes go there", public_url(settings.ghostfolio_url))
    else:
        log.warning("%s", problem)

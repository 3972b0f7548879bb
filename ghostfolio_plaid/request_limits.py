"""Bodies are bounded and typed before any route sees them: 413 when too large, 415 when not JSON, and
:func:`parse_json` for the routes that read JSON (REST bodies, GraphQL requests and their variables).

The webhook route is left to its own, smaller limit (Plaid's contract answers 400 there).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ghostfolio_plaid.rest_compat.errors import nest_error

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_TYPES = ("application/json", "application/graphql-response+json")

MAX_JSON_DEPTH = 32
"""Arrays and objects nested in one another. Python's recursion limit stops ``json.loads`` near 1,000 levels
(a RecursionError, which was a 500), and everything that walks the value afterwards recurses too."""

MAX_JSON_VALUES = 10_000
"""Values (and object keys) in one body. Coercing GraphQL variables costs about a millisecond per hundred values,
on the event loop, before authentication: 1 MB of them cost most of a second. Real bodies hold a few hundred."""

SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate; only a body with one can decode to a lone surrogate."""


class MalformedJSON(ValueError):
    """The body is not JSON this service accepts; the message says why, for the caller."""


def parse_json(raw: bytes | str) -> object:
    """Strict JSON: UTF-8 (a byte order mark is ignored, as RFC 8259 allows), no NaN or Infinity, nesting and
    size bounded, no lone surrogates (PostgreSQL cannot store them and UTF-8 cannot encode them)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedJSON("Request body must be UTF-8 encoded JSON") from None
    else:
        text = raw
    try:
        value = json.loads(text.removeprefix("\ufeff"), parse_constant=_reject_constant)
    except RecursionError:
        raise MalformedJSON(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError:
        raise MalformedJSON("Request body must be valid JSON") from None
    _check_shape(value, check_strings=not isinstance(raw, bytes) or SURROGATE_ESCAPE.search(text) is not None)
    return value


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _check_shape(value: object, *, check_strings: bool) -> None:
    """Depth, size and (when the text escaped a surrogate) strings, walked without recursion."""
    pending: list[tuple[object, int]] = [(value, 1)]
    count = 0
    while pending:
        item, depth = pending.pop()
        count += 1
        if count > MAX_JSON_VALUES:
            raise MalformedJSON(f"JSON holds more than {MAX_JSON_VALUES} values")
        if isinstance(item, dict | list) and depth > MAX_JSON_DEPTH:
            raise MalformedJSON(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        elif check_strings and isinstance(item, str):
            _check_unicode(item)


def _check_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJSON("JSON strings must be valid Unicode (a lone surrogate is not)") from None


class BodyGuard:
    def __init__(self, app: ASGIApp, *, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if size and media_type not in JSON_TYPES:
            await nest_error(415, f"Content-Type must be application/json, not {media_type or 'missing'}")(
                scope, receive, send
            )
            return
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await nest_error(413, f"Request body is larger than {self.max_bytes} bytes")(scope, receive, send)

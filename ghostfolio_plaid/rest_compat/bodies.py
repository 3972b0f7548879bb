"""Request bodies parsed into the resolvers' inputs; every defect becomes a 400 with the field named."""

from __future__ import annotations

from typing import Any, TypeVar

from starlette.requests import Request

from ghostfolio_plaid.errors import BadUserInput
from ghostfolio_plaid.request_limits import MalformedJSON, parse_json
from ghostfolio_plaid.resolvers.inputs import ExchangeInput, LinkedAccountInput

T = TypeVar("T")


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; :func:`parse_json` says what is wrong with any other (too deep, not UTF-8...)."""
    try:
        body = parse_json(await request.body())
    except MalformedJSON as exc:
        raise BadUserInput(str(exc)) from None
    if not isinstance(body, dict):
        raise BadUserInput("Request body must be a JSON object")
    return body


async def limited_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadUserInput(f"Request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadUserInput(f"Request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def exchange_input(body: dict[str, Any]) -> ExchangeInput:
    public_token = _field(body, "publicToken", str)
    institution_id = _field(body, "institutionId", str)
    institution_name = _field(body, "institutionName", str)
    accounts = _field(body, "accounts", list)
    return ExchangeInput(
        public_token=public_token,
        institution_id=institution_id,
        institution_name=institution_name,
        accounts=tuple(_account(entry, index) for index, entry in enumerate(accounts)),
    ).validate()


def _account(entry: object, index: int) -> LinkedAccountInput:
    if not isinstance(entry, dict):
        raise BadUserInput(f"accounts[{index}] must be an object")
    prefix = f"accounts[{index}]."
    return LinkedAccountInput(
        id=_field(entry, "id", str, prefix),
        name=_field(entry, "name", str, prefix),
        type=_field(entry, "type", str, prefix),
        subtype=_optional(entry, "subtype", prefix),
        mask=_optional(entry, "mask", prefix),
    )


def _field(body: dict[str, Any], name: str, kind: type[T], prefix: str = "") -> T:
    if name not in body or body[name] is None:
        raise BadUserInput(f"{prefix}{name} is required")
    value = body[name]
    if not isinstance(value, kind):
        raise BadUserInput(f"{prefix}{name} must be {'a string' if kind is str else 'an array'}")
    return value


def _optional(body: dict[str, Any], name: str, prefix: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadUserInput(f"{prefix}{name} must be a string")
    return value

"""GraphQL error codes as HTTP statuses, in the NestJS body shape the Ghostfolio client parses."""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import JSONResponse

STATUS_BY_CODE: dict[str, int] = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "FEATURE_DISABLED": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "BAD_USER_INPUT": 400,
    "RATE_LIMITED": 429,
    "PLAID_ERROR": 500,
    "UNAVAILABLE": 503,
    "GHOSTFOLIO_ERROR": 502,
    "INTERNAL": 500,
}


def nest_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase},
        status_code=status,
        headers=headers,
    )


def status_for(code: str) -> int:
    return STATUS_BY_CODE.get(code, 500)

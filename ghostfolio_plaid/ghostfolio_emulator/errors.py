"""Error answers in the exact shapes NestJS gives them in Ghostfolio 3.58.

- ``HttpException('Forbidden', 403)`` and friends: ``{"statusCode": 403, "message": "Forbidden"}``.
- The ValidationPipe: ``{"message": [...], "error": "Bad Request", "statusCode": 400}``.
- The import (and activity) controllers wrap a failed import as ``HttpException({error, message: [msg]}, 400)``;
  NestJS sends an object response as given, so that body has no ``statusCode``.
- Any other exception (a Prisma error, a TypeError): ``{"statusCode": 500, "message": "Internal server error"}``.
- An unknown route: ``{"message": "Cannot GET /api/v1/order", "error": "Not Found", "statusCode": 404}``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


def reason(status: int) -> str:
    """http-status-codes' ``getReasonPhrase`` (the same phrases as Python's, but 429's and 413's)."""
    if status == 413:
        return "Request Entity Too Large"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class HttpError(Exception):
    """Raised anywhere in a request; the app answers ``body`` with ``status``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body

    @classmethod
    def plain(cls, status: int) -> HttpError:
        """``new HttpException(getReasonPhrase(status), status)``."""
        return cls(status, {"statusCode": status, "message": reason(status)})

    @classmethod
    def validation(cls, messages: list[str]) -> HttpError:
        return cls(400, {"message": messages, "error": "Bad Request", "statusCode": 400})

    @classmethod
    def internal(cls) -> HttpError:
        """What Ghostfolio answers when Prisma or its own code throws something that is not an HttpException."""
        return cls(500, {"statusCode": 500, "message": "Internal server error"})


class ImportFailed(Exception):
    """An ``Error`` thrown inside the import (or activity) service; the controller answers it as
    ``{"error": "Bad Request", "message": [message]}`` with status 400."""

    def as_http(self) -> HttpError:
        return HttpError(400, {"error": "Bad Request", "message": [str(self)]})


UNAUTHORIZED = {"message": "Unauthorized", "statusCode": 401}


def route_not_found(method: str, path: str) -> HttpError:
    return HttpError(404, {"message": f"Cannot {method} {path}", "error": "Not Found", "statusCode": 404})

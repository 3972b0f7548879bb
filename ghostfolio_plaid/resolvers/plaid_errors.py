"""Plaid's error objects, translated into the API's error codes in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ghostfolio_plaid.errors import BadUserInput, PlaidApiError, PlaidError

_CALLER_MISTAKES = {
    "INVALID_PUBLIC_TOKEN": "Invalid or expired public token",
}


@contextmanager
def plaid_errors() -> Iterator[None]:
    try:
        yield
    except PlaidApiError as exc:
        if exc.error_code in _CALLER_MISTAKES:
            raise BadUserInput(_CALLER_MISTAKES[exc.error_code], plaidErrorCode=exc.error_code) from None
        raise PlaidError(
            f"Plaid API error: {exc.error_code}",
            plaidErrorCode=exc.error_code,
            plaidErrorType=exc.error_type,
            plaidRequestId=exc.request_id,
        ) from None

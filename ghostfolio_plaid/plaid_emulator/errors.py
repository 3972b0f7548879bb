"""Plaid's error objects, with the HTTP status Plaid answers them with.

Codes, types, statuses and messages follow Plaid's error reference (plaid.com/docs/errors/), so a client's
error handling is exercised against what Plaid really sends, not against an emulator's invention.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# error_code -> (error_type, HTTP status, error_message)
_CATALOG: dict[str, tuple[str, int, str]] = {
    "INVALID_API_KEYS": ("INVALID_INPUT", 400, "invalid client_id or secret provided"),
    "INVALID_PUBLIC_TOKEN": ("INVALID_INPUT", 400, "could not find matching public token"),
    "INVALID_ACCESS_TOKEN": ("INVALID_INPUT", 400, "could not find matching access token"),
    "INVALID_ACCOUNT_ID": ("INVALID_INPUT", 400, "failed to find requested account ID for requested item"),
    "INVALID_LINK_TOKEN": ("INVALID_INPUT", 400, "invalid link_token provided"),
    "INVALID_INSTITUTION": ("INVALID_INPUT", 400, "invalid institution_id provided"),
    "INVALID_PRODUCT": (
        "INVALID_INPUT",
        400,
        'client is not authorized to access the following products: ["identity_verification"]',
    ),
    "INVALID_WEBHOOK_VERIFICATION_KEY_ID": (
        "INVALID_INPUT",
        400,
        "invalid key_id provided. note that key_ids are specific to Plaid environments, and verification requests "
        "must be made to the same environment that the webhook was sent from",
    ),
    "INVALID_BODY": ("INVALID_REQUEST", 400, "body could not be parsed as JSON"),
    "INVALID_FIELD": ("INVALID_REQUEST", 400, "a field is invalid"),
    "MISSING_FIELDS": ("INVALID_REQUEST", 400, "the following required fields are missing"),
    "UNKNOWN_FIELDS": ("INVALID_REQUEST", 400, "the following fields are not recognized by this endpoint"),
    "NOT_FOUND": ("INVALID_REQUEST", 404, "not found"),
    "ITEM_NOT_FOUND": (
        "ITEM_ERROR",
        400,
        "The Item you requested cannot be found. This Item does not exist, has been previously removed via "
        "/item/remove, or has had access removed by the user.",
    ),
    "ITEM_LOGIN_REQUIRED": (
        "ITEM_ERROR",
        400,
        "the login details of this item have changed (credentials, MFA, or required user action) and a user "
        "login is required to update this information. use Link's update mode to restore the item to a good state",
    ),
    "USER_PERMISSION_REVOKED": (
        "ITEM_ERROR",
        400,
        "the holder of this account has revoked their permission for your application to access it",
    ),
    "PRODUCT_NOT_READY": (
        "ITEM_ERROR",
        400,
        "the requested product is not yet ready. please provide a webhook or try the request again later",
    ),
    "PRODUCTS_NOT_SUPPORTED": ("ITEM_ERROR", 400, "this item does not support the requested products"),
    "ASSET_REPORT_GENERATION_FAILED": ("ASSET_REPORT_ERROR", 400, ""),
    "SANDBOX_PRODUCT_NOT_ENABLED": (
        "SANDBOX_ERROR",
        400,
        "The [investments | transactions | ...] product is not enabled on this item",
    ),
    "SANDBOX_WEBHOOK_INVALID": (
        "SANDBOX_ERROR",
        400,
        "Webhook for this item is either not set up, or invalid. Please update the item's webhook and try again.",
    ),
    "INSTITUTION_DOWN": (
        "INSTITUTION_ERROR",
        400,
        "this institution is not currently responding to this request. please try again soon",
    ),
    "INSTITUTION_NOT_RESPONDING": (
        "INSTITUTION_ERROR",
        400,
        "this institution is not currently responding to this request. please try again soon",
    ),
    "RATE_LIMIT_EXCEEDED": (
        "RATE_LIMIT_EXCEEDED",
        429,
        "rate limit exceeded for attempts to access this item. please try again later",
    ),
    "INTERNAL_SERVER_ERROR": (
        "API_ERROR",
        500,
        "an unexpected error occurred, and we have been notified of the issue; please try again later",
    ),
    "PLANNED_MAINTENANCE": (
        "API_ERROR",
        503,
        "the Plaid API is temporarily unavailable due to planned maintenance. visit https://status.plaid.com/ for "
        "more information",
    ),
}

_DISPLAY: dict[str, str] = {
    "INSTITUTION_DOWN": "This financial institution is not currently responding to requests. "
    "We apologize for the inconvenience.",
    "INSTITUTION_NOT_RESPONDING": "This financial institution is not currently responding to requests. "
    "We apologize for the inconvenience.",
    "PLANNED_MAINTENANCE": "This financial institution is not currently responding to requests. "
    "We apologize for the inconvenience.",
    "INTERNAL_SERVER_ERROR": "Something went wrong. Please try again later.",
}

# A bare status given to a fault answers the Plaid error Plaid sends with that status.
_CODE_FOR_STATUS: dict[int, str] = {429: "RATE_LIMIT_EXCEEDED", 503: "PLANNED_MAINTENANCE"}

TOKEN_FORMAT = "provided {kind} token is in an invalid format. expected format: {kind}-<environment>-<identifier>"
TOKEN_WRONG_TYPE = 'provided token is the wrong type. expected "{expected}", got "{got}"'
INVALID_PUBLIC_TOKEN_EXPIRED = (
    "provided public token is expired. Public tokens expire 30 minutes after creation at which point they can no "
    "longer be exchanged"
)


class PlaidErrorResponse(Exception):
    """Raised inside a route; answered as Plaid's error object with Plaid's HTTP status for that code."""

    def __init__(self, error_code: str, message: str | None = None, *, status: int | None = None) -> None:
        error_type, default_status, default_message = _CATALOG.get(error_code, _CATALOG["INTERNAL_SERVER_ERROR"])
        self.error_message = default_message if message is None else message
        super().__init__(self.error_message)
        self.error_type = error_type
        self.error_code = error_code
        self.status = status or default_status

    @classmethod
    def for_status(cls, status: int) -> PlaidErrorResponse:
        """The error Plaid answers with a given 4xx/5xx status (INTERNAL_SERVER_ERROR for any other 5xx)."""
        if status in _CODE_FOR_STATUS:
            return cls(_CODE_FOR_STATUS[status], status=status)
        if status >= 500:
            return cls("INTERNAL_SERVER_ERROR", status=status)
        if status == 404:
            return cls("NOT_FOUND")
        return cls("INVALID_FIELD", "the request was rejected", status=status)

    def body(self, request_id: str | None) -> dict[str, Any]:
        """The error object; without ``request_id`` when it rides in a webhook or an item (as Plaid does)."""
        body: dict[str, Any] = {
            "error_type": self.error_type,
            "error_code": self.error_code,
            "error_code_reason": None,
            "error_message": self.error_message,
            "display_message": _DISPLAY.get(self.error_code),
        }
        if request_id is not None:
            body["request_id"] = request_id
        body.update(
            {
                "causes": [],
                "status": self.status,
                "documentation_url": f"https://plaid.com/docs/errors/{_doc_page(self.error_type)}/#{self.error_code.lower()}",
                "suggested_action": None,
            }
        )
        return body


def _doc_page(error_type: str) -> str:
    """Plaid's error pages: ``ITEM_ERROR`` -> ``item``, ``INVALID_INPUT`` -> ``invalid-input``."""
    if error_type == "ASSET_REPORT_ERROR":
        return "assets"
    return error_type.lower().removesuffix("_error").replace("_", "-")


def known_error_codes() -> frozenset[str]:
    return frozenset(_CATALOG)


def missing_fields(names: Iterable[str]) -> PlaidErrorResponse:
    return PlaidErrorResponse("MISSING_FIELDS", f"the following required fields are missing: {', '.join(names)}")


def unknown_fields(names: Iterable[str]) -> PlaidErrorResponse:
    """Plaid names nested fields by their path (``options.foo``, ``user.email``), comma-separated."""
    return PlaidErrorResponse(
        "UNKNOWN_FIELDS", f"the following fields are not recognized by this endpoint: {', '.join(names)}"
    )


def invalid_product(products: Iterable[str]) -> PlaidErrorResponse:
    """Plaid's words for a product it does not take (``balance``, a typo, one the client may not use)."""
    listed = json.dumps(list(products))
    return PlaidErrorResponse("INVALID_PRODUCT", f"client is not authorized to access the following products: {listed}")


def invalid_field(message: str) -> PlaidErrorResponse:
    return PlaidErrorResponse("INVALID_FIELD", message)

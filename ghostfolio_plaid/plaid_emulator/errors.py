"""Plaid's error objects, with the HTTP status Plaid answers them with."""

from __future__ import annotations

from typing import Any

_CATALOG: dict[str, tuple[str, int, str]] = {
    "INVALID_API_KEYS": ("INVALID_INPUT", 400, "invalid client_id or secret provided"),
    "INVALID_PUBLIC_TOKEN": ("INVALID_INPUT", 400, "provided public token is in an invalid format"),
    "INVALID_ACCESS_TOKEN": ("INVALID_INPUT", 400, "provided access token is in an invalid format"),
    "INVALID_LINK_TOKEN": ("INVALID_INPUT", 400, "provided link token is in an invalid format"),
    "INVALID_INSTITUTION": ("INVALID_INPUT", 400, "invalid institution_id provided"),
    "INVALID_WEBHOOK_VERIFICATION_KEY_ID": ("INVALID_INPUT", 400, "invalid key_id provided"),
    "INVALID_BODY": ("INVALID_REQUEST", 400, "body could not be parsed as JSON"),
    "INVALID_FIELD": ("INVALID_REQUEST", 400, "a field is invalid"),
    "MISSING_FIELDS": ("INVALID_REQUEST", 400, "the following required fields are missing"),
    "UNKNOWN_FIELDS": ("INVALID_REQUEST", 400, "the following fields are not recognized by this endpoint"),
    "NOT_FOUND": ("INVALID_REQUEST", 404, "not found"),
    "ITEM_NOT_FOUND": (
        "ITEM_ERROR",
        400,
        "the Item you requested cannot be found. This Item does not exist, "
        "has been previously removed via /item/remove, or has had access removed by the user",
    ),
    "ITEM_LOGIN_REQUIRED": (
        "ITEM_ERROR",
        400,
        "the login details of this item have changed (credentials, MFA, "
        "or required user action) and a user login is required to update this information. "
        "use Link's update mode to restore the item to a good state",
    ),
    "USER_PERMISSION_REVOKED": ("ITEM_ERROR", 400, "the user revoked access to this item"),
    "PRODUCT_NOT_READY": (
        "ITEM_ERROR",
        400,
        "the requested product is not yet ready. please provide a webhook or try the request again later",
    ),
    "PRODUCTS_NOT_SUPPORTED": ("ITEM_ERROR", 400, "this item does not support the requested products"),
    "SANDBOX_PRODUCT_NOT_ENABLED": ("INVALID_INPUT", 400, "the Item does not have the product enabled"),
    "SANDBOX_WEBHOOK_INVALID": ("INVALID_INPUT", 400, "the Item has no webhook set"),
    "INSTITUTION_DOWN": (
        "INSTITUTION_ERROR",
        400,
        "this financial institution is not currently responding to requests. we apologize for the inconvenience",
    ),
    "INSTITUTION_NOT_RESPONDING": (
        "INSTITUTION_ERROR",
        400,
        "this financial institution is not currently responding to requests",
    ),
    "RATE_LIMIT_EXCEEDED": (
        "RATE_LIMIT_EXCEEDED",
        429,
        "rate limit exceeded for attempts to access this item. please try again later",
    ),
    "INTERNAL_SERVER_ERROR": ("API_ERROR", 500, "an unexpected error occurred"),
    "PLANNED_MAINTENANCE": ("API_ERROR", 503, "the Plaid API is temporarily unavailable due to planned maintenance"),
}

_DISPLAY: dict[str, str] = {
    "ITEM_LOGIN_REQUIRED": "the login details of this item have changed",
    "INSTITUTION_DOWN": "This financial institution is not currently responding to requests. "
    "We apologize for the inconvenience.",
    "INSTITUTION_NOT_RESPONDING": "This financial institution is not currently responding to requests.",
}


class PlaidErrorResponse(Exception):
    """Raised inside a route; answered as Plaid's error object."""

    def __init__(self, error_code: str, message: str | None = None, *, status: int | None = None) -> None:
        error_type, default_status, default_message = _CATALOG.get(
            error_code, ("API_ERROR", 500, "an unexpected error occurred")
        )
        super().__init__(message or default_message)
        self.error_type = error_type
        self.error_code = error_code
        self.error_message = message or default_message
        self.status = status or default_status

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "error_type": self.error_type,
            "error_code": self.error_code,
            "error_code_reason": None,
            "error_message": self.error_message,
            "display_message": _DISPLAY.get(self.error_code),
            "request_id": request_id,
            "causes": [],
            "status": self.status,
            "documentation_url": f"https://plaid.com/docs/errors/{self.error_type.lower().replace('_', '-')}/",
            "suggested_action": None,
        }


def known_error_codes() -> frozenset[str]:
    return frozenset(_CATALOG)

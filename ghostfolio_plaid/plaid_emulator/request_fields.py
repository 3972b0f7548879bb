"""Which request fields each endpoint recognises, as Plaid's OpenAPI request schemas name them.

Plaid refuses a body carrying a field its endpoint does not know (400 INVALID_REQUEST / UNKNOWN_FIELDS,
"the following fields are not recognized by this endpoint: options.foo, bar"), so a client that sends a
misspelt or invented field must fail here too, not only in production. The table is explicit (the emulator
does not read the 3 MB spec at run time); ``tests/test_plaid_emulator_strict.py`` proves it equals the
spec's request schemas. Recognised is not the same as implemented: fields the emulator ignores (most of
``/link/token/create``'s) are still accepted, as Plaid accepts them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ghostfolio_plaid.plaid_emulator.errors import unknown_fields

# Credentials may always ride in the body (or in the PLAID-CLIENT-ID / PLAID-SECRET headers).
CREDENTIAL_FIELDS = frozenset({"client_id", "secret"})


@dataclass(frozen=True)
class RequestFields:
    """The top-level fields of a request schema, and those of its nested objects (``options``, ``user``)."""

    top: frozenset[str]
    nested: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _fields(*names: str, **nested: frozenset[str]) -> RequestFields:
    return RequestFields(frozenset(names), nested)


_LINK_TOKEN_CREATE = (
    "access_token",
    "access_tokens",
    "account_filters",
    "additional_consented_products",
    "android_package_name",
    "appearance_mode",
    "auth",
    "base_report",
    "card_switch",
    "cashflow_report",
    "client_name",
    "consumer_report_permissible_purpose",
    "country_codes",
    "cra_enabled",
    "cra_options",
    "credit_partner_insights",
    "employment",
    "enable_multi_item_link",
    "eu_config",
    "financekit_supported",
    "hosted_link",
    "identity",
    "identity_verification",
    "income_verification",
    "institution_data",
    "institution_id",
    "investments",
    "investments_auth",
    "language",
    "link_customization_name",
    "optional_products",
    "payment_configuration",
    "payment_initiation",
    "products",
    "redirect_uri",
    "required_if_supported_products",
    "statements",
    "third_party_user_token",
    "transactions",
    "transfer",
    "update",
    "user",
    "user_id",
    "user_token",
    "webhook",
)
_LINK_TOKEN_USER = frozenset(
    {
        "address",
        "client_user_id",
        "date_of_birth",
        "email_address",
        "email_address_verified_time",
        "id_number",
        "legal_name",
        "name",
        "phone_number",
        "phone_number_verified_time",
        "ssn",
    }
)
_ACCOUNT_IDS = frozenset({"account_ids"})

REQUEST_FIELDS: dict[str, RequestFields] = {
    "/link/token/create": _fields(*_LINK_TOKEN_CREATE, user=_LINK_TOKEN_USER),
    "/item/public_token/exchange": _fields("public_token"),
    "/item/public_token/create": _fields("access_token"),
    "/item/get": _fields("access_token"),
    "/item/remove": _fields("access_token", "reason_code", "reason_note"),
    "/item/webhook/update": _fields("access_token", "webhook"),
    "/accounts/get": _fields("access_token", "options", options=_ACCOUNT_IDS),
    "/institutions/get_by_id": _fields(
        "institution_id",
        "country_codes",
        "options",
        options=frozenset(
            {
                "include_optional_metadata",
                "include_status",
                "include_auth_metadata",
                "include_payment_initiation_metadata",
            }
        ),
    ),
    "/investments/holdings/get": _fields("access_token", "options", options=_ACCOUNT_IDS),
    "/investments/transactions/get": _fields(
        "access_token",
        "start_date",
        "end_date",
        "options",
        options=frozenset({"account_ids", "count", "offset", "async_update"}),
    ),
    "/sandbox/public_token/create": _fields(
        "institution_id",
        "initial_products",
        "options",
        "user_id",
        "user_token",
        options=frozenset(
            {"webhook", "override_username", "override_password", "transactions", "statements", "income_verification"}
        ),
    ),
    "/sandbox/item/reset_login": _fields("access_token"),
    "/sandbox/item/fire_webhook": _fields("access_token", "webhook_type", "webhook_code"),
    "/webhook_verification_key/get": _fields("key_id"),
}


def unrecognised(path: str, body: Mapping[str, Any]) -> Iterator[str]:
    """The fields of ``body`` the endpoint does not know, in the order sent, nested ones as ``parent.name``."""
    fields = REQUEST_FIELDS[path]
    for name, value in body.items():
        if name not in fields.top and name not in CREDENTIAL_FIELDS:
            yield name
        elif name in fields.nested and isinstance(value, Mapping):
            yield from (f"{name}.{inner}" for inner in value if inner not in fields.nested[name])


def check_recognised(path: str, body: Mapping[str, Any]) -> None:
    """Raise Plaid's UNKNOWN_FIELDS naming every unrecognised field, as Plaid does."""
    unknown = list(unrecognised(path, body))
    if unknown:
        raise unknown_fields(unknown)

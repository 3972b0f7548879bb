"""The only place that talks to Plaid.

plaid-python is synchronous and has no default timeout, so every call runs on a dedicated thread pool with a
connect and read timeout, and every failure leaves here as a ``PlaidApiError`` (Plaid answered with an error
object) or ``PlaidUnavailable`` (it did not answer usefully). Access tokens are arguments only: they are never
put into an exception, a log line or a return value other than the exchange result.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import plaid
import urllib3
from plaid.api import plaid_api
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.country_code import CountryCode
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.investments_transactions_get_request import InvestmentsTransactionsGetRequest
from plaid.model.investments_transactions_get_request_options import InvestmentsTransactionsGetRequestOptions
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.products import Products
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.errors import ConfigError, PlaidApiError, PlaidBadResponse, PlaidUnavailable
from ghostfolio_plaid.rate_limit import RateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class LinkToken:
    link_token: str
    expiration: datetime


@dataclass(frozen=True)
class ExchangedItem:
    access_token: str
    item_id: str


@dataclass(frozen=True)
class PlaidAccount:
    account_id: str
    name: str
    type: str
    subtype: str | None
    mask: str | None
    currency: str | None


@dataclass(frozen=True)
class ItemStatus:
    item_id: str
    institution_id: str | None
    consent_expires_at: datetime | None
    error_code: str | None


class PlaidClient:
    def __init__(self, settings: Settings, *, limiter: RateLimiter | None = None, max_threads: int = 32) -> None:
        configuration = plaid.Configuration(
            host=settings.plaid_base_url,
            api_key={"clientId": settings.plaid_client_id, "secret": settings.plaid_secret},
        )
        configuration.retries = 0
        configuration.connection_pool_maxsize = max_threads
        self._api = plaid_api.PlaidApi(plaid.ApiClient(configuration))
        self._timeout = (
            min(CONNECT_TIMEOUT_SECONDS, settings.plaid_timeout_seconds),
            settings.plaid_timeout_seconds,
        )
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="plaid")
        self._limiter = limiter
        self._client_name = settings.plaid_client_name
        self._webhook_url = settings.plaid_webhook_url
        try:
            self._country_codes = [CountryCode(code) for code in settings.plaid_country_codes]
            self._products = [Products(product) for product in settings.plaid_products]
        except (plaid.ApiValueError, plaid.ApiTypeError) as exc:
            raise ConfigError([f"PLAID_COUNTRY_CODES/PLAID_PRODUCTS: not accepted by Plaid ({exc})"]) from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def create_link_token(self, *, client_user_id: str, access_token: str | None = None) -> LinkToken:
        """A Link token for a new item, or in update mode (re-authentication) given ``access_token``."""
        fields: dict[str, Any] = {
            "client_name": self._client_name,
            "language": "en",
            "country_codes": self._country_codes,
            "user": LinkTokenCreateRequestUser(client_user_id=client_user_id),
        }
        if access_token is None:
            fields["products"] = self._products
        else:
            fields["access_token"] = access_token
        if self._webhook_url:
            fields["webhook"] = self._webhook_url
        answer = await self._call(self._api.link_token_create, LinkTokenCreateRequest(**fields))
        return LinkToken(link_token=answer["link_token"], expiration=_parse_time(answer["expiration"]))

    async def exchange_public_token(self, public_token: str) -> ExchangedItem:
        answer = await self._call(
            self._api.item_public_token_exchange, ItemPublicTokenExchangeRequest(public_token=public_token)
        )
        return ExchangedItem(access_token=answer["access_token"], item_id=answer["item_id"])

    async def get_item(self, access_token: str) -> ItemStatus:
        answer = await self._call(self._api.item_get, ItemGetRequest(access_token=access_token))
        item = answer["item"]
        error = item.get("error") or {}
        expires = item.get("consent_expiration_time")
        return ItemStatus(
            item_id=item["item_id"],
            institution_id=item.get("institution_id"),
            consent_expires_at=_parse_time(expires) if expires else None,
            error_code=error.get("error_code"),
        )

    async def get_accounts(self, access_token: str) -> list[PlaidAccount]:
        """The accounts the item gives access to, as Plaid knows them (``/accounts/get``)."""
        answer = await self._call(self._api.accounts_get, AccountsGetRequest(access_token=access_token))
        try:
            return [
                PlaidAccount(
                    account_id=str(account["account_id"]),
                    name=str(account.get("name") or account.get("official_name") or account["account_id"]),
                    type=str(account.get("type") or "other"),
                    subtype=account.get("subtype"),
                    mask=account.get("mask"),
                    currency=(account.get("balances") or {}).get("iso_currency_code")
                    or (account.get("balances") or {}).get("unofficial_currency_code"),
                )
                for account in answer["accounts"]
            ]
        except (KeyError, TypeError, AttributeError):
            raise PlaidBadResponse("Plaid answered /accounts/get with an unexpected body") from None

    async def remove_item(self, access_token: str) -> None:
        await self._call(self._api.item_remove, ItemRemoveRequest(access_token=access_token))

    async def get_webhook_verification_key(self, key_id: str) -> dict[str, Any]:
        """The JWK that signs webhooks with ``kid`` = ``key_id`` (with Plaid's ``created_at``/``expired_at``)."""
        answer = await self._call(
            self._api.webhook_verification_key_get, WebhookVerificationKeyGetRequest(key_id=key_id)
        )
        key: dict[str, Any] = answer["key"]
        return key

    async def get_holdings(self, access_token: str) -> dict[str, Any]:
        """``/investments/holdings/get`` as Plaid's JSON: accounts, holdings, securities."""
        return await self._call(
            self._api.investments_holdings_get, InvestmentsHoldingsGetRequest(access_token=access_token)
        )

    async def get_investment_transactions(
        self, access_token: str, *, start: date, end: date, offset: int, count: int = 500
    ) -> dict[str, Any]:
        """One page of ``/investments/transactions/get`` as Plaid's JSON (newest first)."""
        request = InvestmentsTransactionsGetRequest(
            access_token=access_token,
            start_date=start,
            end_date=end,
            options=InvestmentsTransactionsGetRequestOptions(count=count, offset=offset),
        )
        return await self._call(self._api.investments_transactions_get, request)

    async def _call(self, method: Callable[..., Any], request: Any) -> dict[str, Any]:
        """Run one SDK call off the event loop and return Plaid's JSON answer as a dict.

        The raw body is decoded with ``json`` instead of the SDK's model builder: it is faster for big lists
        and tolerant of fields newer than the pinned SDK. Numbers become ``Decimal``: money is never a float.
        """
        if self._limiter is not None:
            await self._limiter.acquire(getattr(method, "__name__", "unknown"), item=item_key(request))
        bound = partial(method, request, _request_timeout=self._timeout, _preload_content=False)
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self._executor, bound)
        except plaid.ApiException as exc:
            raise _api_error(exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            log.warning("plaid call %s failed: %s", getattr(method, "__name__", "?"), type(exc).__name__)
            raise PlaidUnavailable(f"Plaid could not be reached ({type(exc).__name__})") from None
        try:
            answer = json.loads(response.data, parse_float=Decimal)
        except (ValueError, urllib3.exceptions.HTTPError, OSError):
            raise PlaidUnavailable("Plaid answered with a body that is not JSON") from None
        finally:
            response.release_conn()
        if not isinstance(answer, dict):
            raise PlaidUnavailable("Plaid answered with an unexpected body")
        return answer


def item_key(request: Any) -> str | None:
    """The name a request's item is rate limited under: a digest of its access token (the token itself never
    goes into Redis), or None for calls that concern no item yet (link tokens, the public token exchange)."""
    access_token = request.get("access_token") if hasattr(request, "get") else None
    if not isinstance(access_token, str) or not access_token:
        return None
    return hashlib.sha256(access_token.encode()).hexdigest()[:32]


def _api_error(exc: plaid.ApiException) -> PlaidApiError:
    status = int(exc.status or 0)
    if status == 0:
        return PlaidUnavailable(f"Plaid could not be reached ({exc.reason})")
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    if not isinstance(body, dict) or "error_code" not in body:
        if status >= 500 or status == 429:
            return PlaidUnavailable(f"Plaid answered HTTP {status} without an error object")
        body = {}
    return PlaidApiError(
        status=status,
        error_type=str(body.get("error_type") or "API_ERROR"),
        error_code=str(body.get("error_code") or f"HTTP_{status}"),
        error_message=str(body.get("error_message") or f"Plaid answered HTTP {status}"),
        display_message=body.get("display_message"),
        request_id=body.get("request_id"),
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))

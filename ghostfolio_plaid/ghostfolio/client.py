"""The only place that talks to Ghostfolio's API.

Every call acts as the user it is for: the service signs a short-lived token (``{id, iat, exp}``, HS256 with
the ``JWT_SECRET_KEY`` it shares with Ghostfolio), exactly as Ghostfolio signs its own. Failures leave as
``GhostfolioUnavailable`` (worth retrying) or ``GhostfolioRefused`` (a 4xx: the request is wrong as it is).
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jwt
from jwt.warnings import InsecureKeyLengthWarning

from ghostfolio_plaid.errors import GhostfolioRefused, GhostfolioUnavailable

TOKEN_LIFETIME = timedelta(minutes=5)
CONNECT_TIMEOUT_SECONDS = 5.0
Json = dict[str, Any]


def user_token(user_id: str, secret: str, *, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode({"id": user_id, "iat": issued, "exp": issued + TOKEN_LIFETIME}, secret, algorithm="HS256")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, list):
        return "; ".join(str(part) for part in message)
    return str(message or response.reason_phrase)


class GhostfolioClient:
    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        timeout_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._secret = secret
        self.requests = 0
        """Requests sent so far (a push reports how many it needed)."""
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds)),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> None:
        await self._request("GET", "/api/v1/health", None)

    async def data_provider_answers(self, user_id: str, data_source: str) -> bool:
        """Whether the instance reaches its data provider now (Ghostfolio answers 503 when it does not).

        An instance that does not know the route or the data source says nothing either way: True, and the
        dry-run imports decide symbol by symbol."""
        try:
            await self._request("GET", f"/api/v1/health/data-provider/{data_source}", user_id)
        except GhostfolioRefused:
            return True
        except GhostfolioUnavailable as exc:
            if exc.status == 503:
                return False
            raise
        return True

    async def create_account(self, user_id: str, *, name: str, currency: str) -> str:
        body = {"name": name, "currency": currency, "platformId": None, "comment": "Linked through Plaid"}
        answer = await self._request("POST", "/api/v1/account", user_id, json=body)
        return str(answer["id"])

    async def list_accounts(self, user_id: str) -> list[Json]:
        answer = await self._request("GET", "/api/v1/account", user_id)
        return list(answer.get("accounts") or [])

    async def delete_account(self, user_id: str, account_id: str) -> None:
        await self._request("DELETE", f"/api/v1/account/{account_id}", user_id)

    async def record_balance(self, user_id: str, account_id: str, balance: Decimal, day: date) -> None:
        body = {"accountId": account_id, "balance": float(balance), "date": day.isoformat()}
        await self._request("POST", "/api/v1/account-balance", user_id, json=body)

    async def import_activities(
        self, user_id: str, activities: list[Json], asset_profiles: list[Json] | None = None
    ) -> list[Json]:
        """Ghostfolio answers the activities it created; duplicates it skipped are not among them."""
        body: Json = {"activities": activities}
        if asset_profiles:
            body["assetProfiles"] = asset_profiles
        answer = await self._request("POST", "/api/v1/import", user_id, json=body)
        created = answer.get("activities") if isinstance(answer, dict) else None
        return list(created or [])

    async def list_activities(self, user_id: str, account_ids: list[str]) -> list[Json]:
        """The user's activities in these accounts (Ghostfolio filters by ``accounts``)."""
        path = "/api/v1/activities?accounts=" + ",".join(account_ids)
        answer = await self._request("GET", path, user_id)
        return list(answer.get("activities") or [])

    async def probe_import(self, user_id: str, activities: list[Json]) -> None:
        """A dry-run import: Ghostfolio checks every symbol at its data provider and writes nothing."""
        await self._request("POST", "/api/v1/import?dryRun=true", user_id, json={"activities": activities})

    async def update_activity(self, user_id: str, activity_id: str, activity: Json) -> None:
        await self._request("PUT", f"/api/v1/activities/{activity_id}", user_id, json={**activity, "id": activity_id})

    async def delete_activity(self, user_id: str, activity_id: str) -> None:
        await self._request("DELETE", f"/api/v1/activities/{activity_id}", user_id)

    async def _request(self, method: str, path: str, user_id: str | None, *, json: Json | None = None) -> Any:
        headers = {"Authorization": f"Bearer {user_token(user_id, self._secret)}"} if user_id else {}
        self.requests += 1
        try:
            response = await self._http.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise GhostfolioUnavailable(f"Ghostfolio could not be reached ({type(exc).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            message = f"Ghostfolio answered {response.status_code}: {_message(response)}"
            raise GhostfolioUnavailable(message, response.status_code)
        if response.status_code >= 400:
            raise GhostfolioRefused(response.status_code, _message(response))
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise GhostfolioUnavailable("Ghostfolio answered with a body that is not JSON") from None

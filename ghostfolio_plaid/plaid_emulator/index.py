"""``GET /``: what this emulator serves and how to link an item by hand, as JSON.

Someone who opens the emulator's address (``/plaid-emulator`` in ``ghostfolio-plaid demo``) should learn
where to go next without reading code: the Plaid endpoints, the control endpoints, the client id to use
(never the secret: only where it comes from), the Sandbox institutions, and the linking steps. URLs are
absolute and include the prefix the emulator is mounted under.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig
from ghostfolio_plaid.plaid_emulator.control import CONTROL_ENDPOINTS
from ghostfolio_plaid.plaid_emulator.institutions import INSTITUTIONS
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES

DOCUMENTATION = "docs/emulator.md"
EXCHANGE_ROUTE = "POST /api/v1/plaid/exchange-token"


def _base_url(request: Request) -> str:
    """The emulator's own root, mount prefix included (``http://host/plaid-emulator``), without a slash.

    ``request.base_url`` leaves out the prefix of a Starlette ``Mount``; the scope's ``root_path`` has it.
    """
    root = request.scope.get("root_path", "").rstrip("/")
    return str(request.url.replace(path=root, query="", fragment="")).rstrip("/")


def describe(config: EmulatorConfig, base: str) -> dict[str, Any]:
    secret_origin = (
        "the default of plaid_emulator/config.py (PLAID_CLIENT_ID/PLAID_SECRET were not set)"
        if config.secret == EmulatorConfig().secret
        else "the one this emulator was started with (PLAID_SECRET of the service or demo)"
    )
    return {
        "name": "ghostfolio-plaid Plaid emulator",
        "about": "A Plaid-compatible Sandbox API: Plaid's requests, answers, errors and signed webhooks.",
        "documentation": DOCUMENTATION,
        "base_url": base,
        "credentials": {
            "client_id": config.client_id,
            "secret": f"not shown here; it is {secret_origin}",
            "how": "PLAID-CLIENT-ID and PLAID-SECRET headers, or client_id and secret in the JSON body",
            "content_type": "application/json (any other body is INVALID_BODY)",
        },
        "plaid_endpoints": [{"method": "POST", "path": path, "url": base + path} for path in PLAID_ROUTES],
        "control_endpoints": [
            {"method": method, "path": path, "url": base + path, "description": description}
            for method, path, _, description in CONTROL_ENDPOINTS
        ],
        "sandbox_institutions": [
            {
                "institution_id": institution.institution_id,
                "name": institution.name,
                "country_codes": list(institution.country_codes),
                "oauth": institution.oauth,
            }
            for institution in INSTITUTIONS.values()
        ],
        "link_an_item_by_hand": [
            f"1. Get a public token, either from Plaid's sandbox shortcut: POST {base}/sandbox/public_token/create "
            '{"institution_id": "ins_109508", "initial_products": ["investments"]} with the credentials; '
            f"or as a user finishing Link: POST {base}/link/token/create (credentials, client_name, language, "
            "country_codes, user, products), then POST "
            f'{base}/emulator/link/complete {{"link_token": "..."}}, which also answers the accounts, '
            "as Link's onSuccess metadata.",
            f"2. Exchange it through the service: {EXCHANGE_ROUTE} with a bearer JWT and "
            '{"publicToken": "public-sandbox-...", "institutionId": "ins_109508", '
            '"institutionName": "First Platypus Bank", "accounts": []} (an empty list links every account).',
            f"3. Follow the item: GET {base}/emulator/requests shows the service's Plaid calls, "
            f"GET {base}/emulator/webhooks the webhooks sent to it.",
        ],
    }


def index_route(config: EmulatorConfig) -> Route:
    async def index(request: Request) -> Response:
        return JSONResponse(describe(config, _base_url(request)))

    return Route("/", index, methods=["GET"])

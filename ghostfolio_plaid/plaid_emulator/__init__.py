"""A Plaid-compatible HTTP server for tests, benchmarks and local runs.

Plaid's endpoints (``/link/token/create``, ``/item/...``, ``/accounts/get``, ``/institutions/get_by_id``,
``/investments/holdings/get``, ``/investments/transactions/get``, ``/sandbox/...``,
``/webhook_verification_key/get``) answer with Plaid's shapes and error objects, check the client id and
secret, and keep per-item state in memory. Webhooks are signed with the emulator's own ES256 key.

Test-control endpoints (not Plaid's; no credentials):

- ``GET /emulator/requests``: the calls received, without secrets or tokens.
- ``GET /emulator/webhooks``: webhook deliveries (url, body, status or error).
- ``POST /emulator/reset``: forget everything.
- ``POST /emulator/items`` ``{"institution_id", "products", "webhook", "shape": {"investment_accounts",
  "securities", "transactions_per_account", "depository_account"}}``: seed an item of any size; answers
  ``{"item_id", "access_token", "public_token"}``.
- ``POST /emulator/link/complete`` ``{"link_token", "institution_id"?}``: a user finishing Link with that
  token; update mode repairs the item's login; answers ``{"public_token", "item_id"}``.
- ``POST /emulator/faults`` ``{"path", "item_id"?, "error_code"?, "status"?, "delay_ms"?, "times"?, "body"?}``:
  the next ``times`` calls of ``path`` (of that item only, when ``item_id`` is given) answer Plaid's error
  object for ``error_code``, or a bare ``status`` with ``body``, or a 200 with a raw ``body`` (e.g. malformed
  JSON), after ``delay_ms``. ``DELETE`` clears them.
"""

from ghostfolio_plaid.plaid_emulator.app import create_app
from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig
from ghostfolio_plaid.plaid_emulator.server import EmulatorServer, ThreadedServer, serve

__all__ = ["EmulatorConfig", "EmulatorServer", "ThreadedServer", "create_app", "serve"]

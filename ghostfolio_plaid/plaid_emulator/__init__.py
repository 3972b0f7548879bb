"""A Plaid-compatible HTTP server for tests, benchmarks and local runs.

Plaid's endpoints (POST, JSON, Plaid's request and response shapes, ``request_id`` on every answer):
``/link/token/create`` (normal and update mode), ``/item/public_token/exchange``, ``/item/public_token/create``,
``/item/get``, ``/item/remove``, ``/item/webhook/update``, ``/accounts/get``, ``/institutions/get_by_id``,
``/investments/holdings/get``, ``/investments/transactions/get``, ``/sandbox/public_token/create``,
``/sandbox/item/reset_login``, ``/sandbox/item/fire_webhook``, ``/webhook_verification_key/get``.
They check the client id and secret (``PLAID-CLIENT-ID``/``PLAID-SECRET`` headers or body fields), answer
Plaid's error objects with Plaid's statuses, and keep per-item state in memory. Data is deterministic per
institution and item (``fixtures.py``). Webhooks are signed with the emulator's own ES256 key, exactly as
Plaid signs them (``signing.py``).

Test-control endpoints (not Plaid's; no credentials; a bad request answers 400 ``{"error": "..."}``):

- ``GET /emulator/requests`` -> ``{"requests": [{"method", "path", "time", "item_id", "fields", "options",
  "institution_id", "webhook", "webhook_code", "webhook_type", "start_date", "end_date", "key_id",
  "update_mode", "status", "error_code"}]}``: the calls received, in order. ``fields`` lists the names sent;
  secrets, access tokens and public tokens never appear.
- ``GET /emulator/webhooks`` -> ``{"webhooks": [{"url", "body", "status", "error", "sent_at"}]}``: webhook
  deliveries as they complete (``status`` None and ``error`` set when the receiver could not be reached).
- ``POST /emulator/reset`` -> ``{"reset": true}``: forget items, tokens, logs, deliveries and faults (the
  signing key stays).
- ``POST /emulator/items`` ``{"institution_id"?: "ins_109508", "products"?: ["investments"], "webhook"?,
  "shape"?: {"investment_accounts": 3, "securities": 0, "transactions_per_account": 0,
  "depository_account": true}}`` -> ``{"item_id", "access_token", "public_token"}``: seed an item of any size.
  ``securities: 0`` gives the realistic sandbox catalog and history; ``securities: N`` gives N synthetic
  equities spread over the accounts and ``transactions_per_account`` transactions in each (a benchmark item:
  ``{"investment_accounts": 5, "securities": 1000, "transactions_per_account": 10000,
  "depository_account": false}`` is 50,000 transactions, built in under a second on first use).
- ``POST /emulator/link/complete`` ``{"link_token", "institution_id"?}`` -> ``{"public_token", "item_id"}``:
  a user finishing Link with that token. Normal mode creates an item with the token's products and webhook;
  update mode repairs the item's login and applies the token's webhook, if it had one.
- ``POST /emulator/faults`` ``{"path", "item_id"?, "error_code"?, "status"?, "delay_ms"?, "times"?: 1,
  "body"?}`` -> ``{"faults": <count>}``: the next ``times`` calls of ``path`` (of that item only, when
  ``item_id`` is given; credentials are still checked first) wait ``delay_ms`` and then answer:
  Plaid's error object for ``error_code`` (its usual status, or ``status``); for ``status`` alone, the Plaid
  error Plaid sends with that status (429 RATE_LIMIT_EXCEEDED, 503 PLANNED_MAINTENANCE, other 5xx
  INTERNAL_SERVER_ERROR); for ``status`` with ``body``, that raw body (a broken proxy); for ``body`` alone, a
  200 with that raw body (e.g. malformed JSON); for ``delay_ms`` alone, the real answer, late.
  ``GET /emulator/faults`` lists the pending faults, ``DELETE /emulator/faults`` clears them.
"""

from ghostfolio_plaid.plaid_emulator.app import create_app
from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig
from ghostfolio_plaid.plaid_emulator.server import EmulatorServer, ThreadedServer, serve

__all__ = ["EmulatorConfig", "EmulatorServer", "ThreadedServer", "create_app", "serve"]

"""A Ghostfolio 3.58 API emulator: a real HTTP server (Starlette) for tests, benchmarks and the demo.

It answers the routes the connector uses with Ghostfolio's own rules, shapes, statuses and messages, read from
Ghostfolio 3.58's source (see ``docs/ghostfolio-emulator.md``). Everything is in memory.

Ghostfolio routes (all but the first three need ``Authorization: Bearer <JWT>``, HS256/384/512 with the
configured secret, ``id`` claim = a known user; otherwise 401 ``{"message": "Unauthorized", "statusCode": 401}``):

- ``GET /api/v1/health`` -> ``{"status": "OK"}``; ``GET /api/v1/health/data-provider/:dataSource`` -> 200
  ``{"status": "OK"}`` or 503 (offline), 404 for an unknown data source.
- ``POST /api/v1/auth/anonymous {accessToken}`` -> 201 ``{authToken}`` (403 for an unknown security token).
- ``GET /api/v1/account`` -> ``{accounts: [...], activitiesCount, totalBalanceInBaseCurrency, ...}``;
  ``POST /api/v1/account {name, currency, platformId: null, comment?, balance?, id?, tags?}`` -> 201 Account row;
  ``GET /api/v1/account/:id``; ``DELETE /api/v1/account/:id`` (403 unless it is yours and has no activities);
  ``GET /api/v1/account/:id/balances`` -> ``{balances: [...]}``.
- ``POST /api/v1/account-balance {accountId, balance, date}`` -> 201 (one per account and day: the same day
  again replaces it; 403 for someone else's account); ``DELETE /api/v1/account-balance/:id``.
- ``POST /api/v1/import[?dryRun=true] {activities, accounts?, assetProfiles?, platforms?, tags?}`` -> 201
  ``{activities: [...]}``; see ``import_service`` for the steps, the symbol checks and duplicates.
- ``GET /api/v1/activities`` -> ``{activities, count}``; ``GET|PUT|DELETE /api/v1/activities/:id`` (404 for an
  activity that is not yours). ``/api/v1/order`` is gone (404, as in 3.58).
- ``GET /api/v1/portfolio/holdings[?accounts=id,id&dataSource=&symbol=&holdingType=CLOSED]`` -> ``{holdings}``.

Validation errors are NestJS's ``{"message": [...], "error": "Bad Request", "statusCode": 400}``; a failed import
is ``{"error": "Bad Request", "message": ["..."]}`` (no statusCode, as Ghostfolio sends it).

Control endpoints (not Ghostfolio's; no auth; a bad request answers 400 ``{"error": "..."}``):

- ``POST /emulator/reset`` -> ``{"reset": true}``: forget all data, users, log and faults; settings back to the
  config's.
- ``POST /emulator/users {"id"?, "role"?: "USER"|"ADMIN"|"DEMO"}`` -> 201 ``{"id", "role", "accessToken",
  "authToken"}`` (200 for an existing id). ``accessToken`` is the security token for ``/api/v1/auth/anonymous``,
  ``authToken`` a ready JWT. ``GET /emulator/users`` -> ``{"users": [{"id", "role"}]}``.
- ``GET /emulator/requests`` -> ``{"requests": [{"method", "path", "query", "status", "user_id", "time",
  "duration_ms", "fault"}]}`` (Ghostfolio routes only; never headers, bodies or tokens);
  ``DELETE /emulator/requests`` empties it.
- ``GET /emulator/state[?userId=]`` -> ``{"settings", "users", "accounts", "balances", "activities",
  "assetProfiles" (with "marketData"), "platforms", "tags"}``.
- ``POST /emulator/faults {"path", "method"?, "status"?, "times"?: 1, "delay_ms"?: 0, "body"?}`` -> ``{"faults":
  n}``: the next ``times`` matching calls wait ``delay_ms``, then answer ``status`` with ``body`` or NestJS's
  ``{"statusCode", "message"}`` (without ``status``: the real answer, late). A path ending in ``*`` is a prefix.
  ``GET /emulator/faults`` lists them, ``DELETE /emulator/faults`` clears them.
- ``POST /emulator/offline {"offline": bool}``: the data providers unreachable (every non-MANUAL symbol refused).
- ``GET|POST /emulator/config`` ``{"offline"?, "max_activities_to_import"?, "auto_create_users"?,
  "known_symbols"?, "portfolio_debounce_seconds"?}`` -> the current settings.
"""

from ghostfolio_plaid.ghostfolio_emulator.app import create_app
from ghostfolio_plaid.ghostfolio_emulator.config import GhostfolioEmulatorConfig

__all__ = ["GhostfolioEmulatorConfig", "create_app"]

"""A Plaid-compatible HTTP server for tests, benchmarks, the demo and linking by hand.

It answers Plaid's Sandbox endpoints as strictly as Plaid does (request fields, products, tokens, errors,
signed webhooks) and adds test-control endpoints under ``/emulator/``. ``GET /`` lists everything it serves.
How to use it, every endpoint and every control endpoint: ``docs/emulator.md``.
"""

from ghostfolio_plaid.plaid_emulator.app import create_app
from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig
from ghostfolio_plaid.plaid_emulator.server import EmulatorServer, ThreadedServer, serve

__all__ = ["EmulatorConfig", "EmulatorServer", "ThreadedServer", "create_app", "serve"]

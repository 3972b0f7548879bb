"""Run the emulator in the foreground (``python -m ghostfolio_plaid.ghostfolio_emulator.server``); tests use
``ghostfolio_plaid.plaid_emulator.server.ThreadedServer`` with ``create_app`` instead."""

from __future__ import annotations

import argparse
import os

import uvicorn

from ghostfolio_plaid.ghostfolio_emulator.app import create_app
from ghostfolio_plaid.ghostfolio_emulator.config import GhostfolioEmulatorConfig


def serve(host: str, port: int, config: GhostfolioEmulatorConfig) -> None:
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


def main() -> None:
    parser = argparse.ArgumentParser(description="A Ghostfolio 3.58 API emulator (in memory).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3333)
    parser.add_argument("--auto-create-users", action="store_true")
    parser.add_argument("--offline", action="store_true")
    args = parser.parse_args()
    secret = os.environ.get("JWT_SECRET_KEY")
    if not secret:
        parser.error("set JWT_SECRET_KEY (the secret Ghostfolio signs its tokens with)")
    config = GhostfolioEmulatorConfig(jwt_secret=secret, auto_create_users=args.auto_create_users, offline=args.offline)
    serve(args.host, args.port, config)


if __name__ == "__main__":
    main()

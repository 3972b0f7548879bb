from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    """The credentials the emulator accepts, and how long a public token lives (Plaid: 30 minutes)."""

    client_id: str = "emulator-client-id"
    secret: str = "emulator-secret"
    public_token_ttl_seconds: float = 1800.0

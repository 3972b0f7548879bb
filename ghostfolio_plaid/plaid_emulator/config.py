from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    """The credentials the emulator accepts, how long a public token lives (Plaid: 30 minutes), and where it
    keeps its state across restarts (None: in memory only)."""

    client_id: str = "emulator-client-id"
    secret: str = "emulator-secret"
    public_token_ttl_seconds: float = 1800.0
    state_file: str | None = None

"""Where ``ghostfolio-plaid demo`` keeps its state, and its secrets.

Separate from ``demo.py`` (which loads the whole service) so that ``ghostfolio-plaid token`` can sign with the
demo's JWT secret without loading anything else.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

DATA_DIR = ".ghostfolio-plaid-demo"
SECRETS_FILE = "secrets.json"


def demo_secrets(folder: Path) -> dict[str, str]:
    """The demo's secrets, made on its first start (readable by the owner only) and kept across restarts."""
    path = folder / SECRETS_FILE
    if not path.exists():
        path.write_text(
            json.dumps(
                {
                    "JWT_SECRET_KEY": secrets.token_urlsafe(48),
                    "PLAID_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
                }
            )
        )
        path.chmod(0o600)
    loaded: dict[str, str] = json.loads(path.read_text())
    return loaded


def demo_secrets_path(working_directory: Path) -> Path:
    """Where a demo started in ``working_directory`` keeps its secrets (the file may not exist)."""
    return working_directory / DATA_DIR / SECRETS_FILE


def existing_demo_jwt_secret(working_directory: Path) -> str | None:
    """The JWT secret of a demo started in ``working_directory``, if there is one."""
    path = demo_secrets_path(working_directory)
    if not path.is_file():
        return None
    try:
        secret = json.loads(path.read_text()).get("JWT_SECRET_KEY")
    except (json.JSONDecodeError, AttributeError):  # not the object the demo writes: not a demo's file
        return None
    return secret if isinstance(secret, str) and secret else None

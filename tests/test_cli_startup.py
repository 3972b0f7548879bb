"""How commands start: fast where a person waits (``--help``, ``token``), and one clear line, never a
traceback, when a store they need cannot be reached."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from tests.processes import command, free_port

HEAVY_MODULES = ("plaid", "strawberry", "rq", "tortoise", "prometheus_client", "uvicorn")
"""What ``--help`` and ``token`` must not load: each costs from 0.1 to 1 s at start."""

LOADED_PROBE = f"""
import json, sys
from ghostfolio_plaid.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as stop:
    status = stop.code
print(json.dumps({{"status": status, "loaded": [m for m in {HEAVY_MODULES!r} if m in sys.modules]}}), file=sys.stderr)
"""
PASSWORD = "Pa55-not-for-logs-7f3c"
UNREACHABLE_DATABASE = f"postgres://postgres:{PASSWORD}@127.0.0.1:1/ghostfolio_plaid"
UNREACHABLE_REDIS = f"redis://:{PASSWORD}@127.0.0.1:1/5"


def clean_env(**overrides: str) -> dict[str, str]:
    """The test process's environment without any of the service's settings, plus ``overrides``."""
    prefixes = ("PLAID_", "DATABASE_", "REDIS_", "JWT_", "SYNC_", "ENABLE_", "LOG_", "METRICS_", "AUTO_", "GHOSTFOLIO_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(prefixes)}, **overrides}


def loaded_by(env: dict[str, str], *args: str) -> tuple[int, list[str], str]:
    """Run ``main(args)`` in a fresh interpreter; its exit status, the heavy modules it loaded, its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED_PROBE, *args], env=env, capture_output=True, text=True, timeout=60
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["status"], report["loaded"], result.stdout


def test_help_loads_no_heavy_module() -> None:
    status, loaded, out = loaded_by(clean_env(), "--help")
    assert status == 0 and "serve" in out and "token" in out
    assert loaded == []


def test_token_loads_no_heavy_module() -> None:
    secret = "a-token-command-secret-0123456789"
    status, loaded, out = loaded_by(clean_env(JWT_SECRET_KEY=secret), "token", "alice")
    assert status == 0
    assert jwt.decode(out.strip(), secret, algorithms=["HS256"])["id"] == "alice"
    assert loaded == []


def test_push_without_ghostfolio_url_says_so_at_once() -> None:
    status, loaded, out = loaded_by(clean_env(JWT_SECRET_KEY="a-push-command-secret-0123456789"), "push", "item-x")
    assert (status, loaded, out) == (2, [], "")


def test_token_without_a_secret_says_how_to_get_one(tmp_path: Path) -> None:
    result = subprocess.run(
        command("token", "alice"), cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "JWT_SECRET_KEY" in result.stderr and "ghostfolio-plaid demo" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "settings", "store"),
    [
        (("migrate",), {"DATABASE_URL": UNREACHABLE_DATABASE}, "PostgreSQL"),
        (("serve",), {"DATABASE_URL": UNREACHABLE_DATABASE}, "PostgreSQL"),
        (("serve",), {"DATABASE_URL": UNREACHABLE_DATABASE, "AUTO_MIGRATE": "false"}, "PostgreSQL"),
        (("serve",), {"REDIS_URL": UNREACHABLE_REDIS}, "Redis"),
        (("worker", "--burst"), {"REDIS_URL": UNREACHABLE_REDIS}, "Redis"),
        (("worker", "--burst"), {"DATABASE_URL": UNREACHABLE_DATABASE}, "PostgreSQL"),
    ],
)
async def test_an_unreachable_store_stops_the_command_with_one_line(
    process_env: dict[str, str], args: tuple[str, ...], settings: dict[str, str], store: str
) -> None:
    if args[0] == "serve":
        args = (*args, "--port", str(free_port()))
    process = await asyncio.create_subprocess_exec(
        *command(*args),
        env={**process_env, **settings},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{' '.join(args)} kept running with {store} unreachable") from None
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2, err.decode()
    assert len(lines) == 1, err.decode()
    assert store in lines[0] and "127.0.0.1:1" in lines[0]
    assert PASSWORD not in err.decode() + out.decode()

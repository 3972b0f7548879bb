"""Logs of the real processes: uvicorn's own formatters keep working under redaction, and LOG_FORMAT chooses
JSON lines (for collectors) or text (for people)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess

import httpx
import pytest

from tests.processes import command, free_port

ACCESS_TOKEN = "access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970"
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: .+")


async def test_emulator_logs_each_request_once_redacted_and_without_logging_errors(env: dict[str, str]) -> None:
    port = free_port()
    secret = "emulator-secret-value-42"
    process = await asyncio.create_subprocess_exec(
        *command("emulator", "--port", str(port)),
        env={**os.environ, **env, "PLAID_CLIENT_ID": "cli-client", "PLAID_SECRET": secret},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
            for _ in range(100):
                try:
                    await http.post("/item/get", json={"client_id": "x", "secret": "y", "access_token": "z"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            missing = await http.get(f"/{secret}", params={"access_token": ACCESS_TOKEN})
            assert missing.status_code == 404
    finally:
        process.terminate()
        out, err = await process.communicate()
    printed = out.decode() + err.decode()
    assert "Logging error" not in printed and "Traceback" not in printed
    assert secret not in printed and ACCESS_TOKEN not in printed
    assert '"GET /[REDACTED]?access_token=[REDACTED] HTTP/1.1" 404' in printed
    assert '"POST /item/get HTTP/1.1" 400' in printed


@pytest.mark.parametrize("log_format", ["", "json", "text"])
async def test_worker_logs_in_the_chosen_format(process_env: dict[str, str], run_id: str, log_format: str) -> None:
    queue = f"gp-test-{run_id}-log-format"
    process = await asyncio.create_subprocess_exec(
        *command("worker", "--burst"),
        env={**process_env, "SYNC_QUEUE_NAME": queue, "LOG_FORMAT": log_format},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    lines = [line for line in (out.decode() + err.decode()).splitlines() if line.strip()]
    assert any("started" in line for line in lines), lines
    if log_format == "text":
        assert all(TEXT_LINE.match(line) for line in lines), lines
    else:
        assert all({"time", "level", "logger", "message"} <= json.loads(line).keys() for line in lines), lines


def test_an_unknown_log_format_is_a_configuration_error(process_env: dict[str, str]) -> None:
    result = subprocess.run(
        command("worker", "--burst"),
        env={**process_env, "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "LOG_FORMAT" in result.stderr and "Traceback" not in result.stderr

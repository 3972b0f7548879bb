"""``serve`` and ``worker`` with the connector on say at start whether Ghostfolio answers, and keep running
when it does not (pushes wait in the outbox until it does)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ghostfolio_plaid.plaid_emulator import ThreadedServer
from tests.processes import command, free_port

CLOSED_PORT_URL = "http://127.0.0.1:1"


def messages(log: Path) -> list[str]:
    """The messages of the JSON log lines a service wrote."""
    return [json.loads(line)["message"] for line in log.read_text().splitlines() if line.startswith("{")]


def serve_and_read_its_log(env: dict[str, str], log: Path, ghostfolio_url: str | None) -> tuple[list[str], int | None]:
    """Start ``serve`` (GHOSTFOLIO_URL set when given), wait until it answers, give it a second; its log messages
    and its exit status so far."""
    port = free_port()
    env = {k: v for k, v in env.items() if k != "GHOSTFOLIO_URL"}
    if ghostfolio_url is not None:
        env["GHOSTFOLIO_URL"] = ghostfolio_url
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command("serve", "--port", str(port)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"serve did not start:\n{log.read_text()}")
                    time.sleep(0.1)
            time.sleep(1)
            still = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code
            assert still == 200
            return messages(log), process.poll()
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_serve_says_ghostfolio_does_not_answer_and_keeps_running(process_env: dict[str, str], tmp_path: Path) -> None:
    said, exited = serve_and_read_its_log(process_env, tmp_path / "serve.log", CLOSED_PORT_URL)
    assert exited is None
    (line,) = [m for m in said if m.startswith("Ghostfolio at ")]
    assert line.startswith(f"Ghostfolio at {CLOSED_PORT_URL} does not answer (could not be reached (Connect")
    assert line.endswith("pushes will be retried until it does")


def test_serve_says_ghostfolio_answers(process_env: dict[str, str], tmp_path: Path, ghostfolio: ThreadedServer) -> None:
    said, exited = serve_and_read_its_log(process_env, tmp_path / "serve.log", ghostfolio.url)
    assert exited is None
    assert [m for m in said if m.startswith("Ghostfolio at ")] == [
        f"Ghostfolio at {ghostfolio.url} answers; pushes go there"
    ]


@pytest.mark.parametrize("reachable", [False, True])
def test_worker_says_whether_ghostfolio_answers_and_works_either_way(
    process_env: dict[str, str], ghostfolio: ThreadedServer, reachable: bool
) -> None:
    url = ghostfolio.url if reachable else CLOSED_PORT_URL
    env = {**process_env, "GHOSTFOLIO_URL": url, "SYNC_QUEUE_NAME": f"gp-test-startup-{uuid.uuid4().hex[:8]}"}
    done = subprocess.run(command("worker", "--burst"), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = [json.loads(line)["message"] for line in done.stderr.splitlines() if line.startswith("{")]
    expected = f"Ghostfolio at {url} answers" if reachable else f"Ghostfolio at {url} does not answer"
    assert [m for m in said if m.startswith(expected)], done.stderr

"""``ghostfolio-plaid serve --workers 2`` as an operator runs it: one scrape covers every API process, the
operator endpoints take ``METRICS_TOKEN``, and the logs are JSON lines with nothing secret in them."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ghostfolio_plaid.auth import issue_token
from tests.conftest import JWT_SECRET, PLAID_SECRET
from tests.processes import command, free_port

METRICS_TOKEN = "operator-metrics-token-5b1e"
COUNTED_ROUTE = "/api/v1/plaid/openapi.json"


@dataclass
class Served:
    url: str
    log: Path

    def log_lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]

    def pids_that_served(self, route: str) -> set[int]:
        entries = (json.loads(line) for line in self.log_lines())
        return {entry["pid"] for entry in entries if entry.get("route") == route}


@pytest.fixture(scope="module")
def two_workers(process_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    log = tmp_path_factory.mktemp("serve-workers") / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command("serve", "--port", str(port), "--workers", "2"),
            env={**process_env, "METRICS_TOKEN": METRICS_TOKEN},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"serve did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield Served(url, log)
        process.terminate()
        process.wait(timeout=20)


def raw_request(url: str, method: str, path: str) -> bytes:
    """One HTTP/1.1 request with ``method`` exactly as given (HTTP clients upper-case it; HTTP does not)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_one_scrape_counts_the_requests_of_every_worker(two_workers: Served) -> None:
    sent = 0
    while sent < 400 and not (sent >= 20 and len(two_workers.pids_that_served(COUNTED_ROUTE)) >= 2):
        for _ in range(10):  # a new connection each time, so that either worker may accept it
            assert httpx.get(two_workers.url + COUNTED_ROUTE, headers={"Connection": "close"}).status_code == 200
            sent += 1
        time.sleep(0.05)
    assert len(two_workers.pids_that_served(COUNTED_ROUTE)) == 2, "the kernel never gave the second worker a request"
    samples = scrape(two_workers.url)
    counted = (("method", "GET"), ("route", COUNTED_ROUTE), ("status", "200"))
    assert samples[("ghostfolio_plaid_http_requests_total", counted)] == sent


def test_operator_endpoints_need_the_metrics_token(two_workers: Served) -> None:
    for path in ("/metrics", "/readyz"):
        assert httpx.get(two_workers.url + path).status_code == 401
        wrong = httpx.get(two_workers.url + path, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        right = httpx.get(two_workers.url + path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200, path
    assert httpx.get(two_workers.url + "/healthz").json() == {"status": "ok"}


def test_logs_are_json_lines_without_secrets_or_logging_errors(two_workers: Served) -> None:
    bearer = issue_token("log-reader", JWT_SECRET)
    for method in (bearer, PLAID_SECRET, "GET"):  # HTTP lets a client send any token as its method
        assert raw_request(two_workers.url, method, "/healthz").startswith(b"HTTP/1.1 ")
    time.sleep(0.5)
    text = two_workers.log.read_text()
    assert "Logging error" not in text and "Traceback" not in text
    for secret in (bearer, PLAID_SECRET, JWT_SECRET, METRICS_TOKEN):
        assert secret not in text
    lines = [json.loads(line) for line in two_workers.log_lines()]
    assert any(line.get("method") == "[REDACTED]" and line.get("route") == "/healthz" for line in lines)
    assert all({"time", "level", "logger", "message", "pid"} <= line.keys() for line in lines)
    methods = {dict(labels).get("method") for (_, labels) in scrape(two_workers.url)}
    assert methods <= {None, "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "other"}

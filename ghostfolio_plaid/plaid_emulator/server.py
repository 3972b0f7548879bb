"""Any ASGI app on a real port in a background thread: the emulator in tests, or the service itself."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from ghostfolio_plaid.plaid_emulator.app import create_app
from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig


class ThreadedServer:
    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", access_log=False)
        )
        self._thread = threading.Thread(target=self._server.run, name="threaded-uvicorn", daemon=True)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


EmulatorServer = ThreadedServer


def serve(host: str, port: int, config: EmulatorConfig) -> None:
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")

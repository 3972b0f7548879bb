"""Any ASGI app on a real port in a background thread: the emulator in tests, or the service itself.

A real socket (rather than an in-process transport) is the point: clients such as plaid-python's urllib3
pool, webhook receivers and subprocesses talk to it exactly as they would to Plaid.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from ghostfolio_plaid.plaid_emulator.app import create_app
from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig

STARTUP_TIMEOUT_SECONDS = 15.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


class ThreadedServer:
    """``with ThreadedServer(app, port=0) as server: server.url`` -> ``http://127.0.0.1:PORT``.

    Port 0 picks a free port; the real one is known once the server listens. The lifespan runs (startup on
    enter, shutdown on exit), and ``__enter__`` returns only once connections are accepted.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", access_log=False)
        )
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="threaded-uvicorn", daemon=True)

    def _run(self) -> None:
        # uvicorn answers a failed bind with sys.exit(1): keep it (and any crash) for __enter__ to report,
        # instead of letting it escape as an unhandled exception in a thread.
        try:
            self._server.run()
        except BaseException as exc:
            self._failure = exc

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._stop()
                raise RuntimeError(f"the server did not start on {self.host}:{self.port}") from self._failure
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        if self._thread.is_alive():  # stuck connections: stop waiting for them
            self._server.force_exit = True
            self._thread.join(timeout=SHUTDOWN_TIMEOUT_SECONDS)


EmulatorServer = ThreadedServer


def serve(host: str, port: int, config: EmulatorConfig) -> None:
    """Run the emulator in the foreground until interrupted (``ghostfolio-plaid emulator --port P``)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")

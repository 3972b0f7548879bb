"""Running the documented commands as processes, the way an operator does."""

from __future__ import annotations

import asyncio
import socket
import sys


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ghostfolio_plaid", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def run_command(env: dict[str, str], *args: str) -> str:
    """Run one command to its end (at most two minutes) and return what it printed."""
    process = await asyncio.create_subprocess_exec(
        *command(*args), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(120):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()

"""The Procfile's `web:` line, run for real (gunicorn on a free loopback port), and a crowd of
idle and slow connections to throw at it (also used by bench/slow_clients.py)."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.sites import Site

PROCFILE = Path(__file__).parent.parent / "Procfile"


def web_line() -> str:
    """The command of the Procfile's `web:` process."""
    procfile = PROCFILE.read_text(encoding="utf-8")
    line = next(line for line in procfile.splitlines() if line.startswith("web:"))
    return line.removeprefix("web:").strip()


@contextmanager
def procfile_web(site: Site, output: IO[bytes] | None = None) -> Iterator[str]:
    """Run the `web:` process for ``site`` until the block ends; yields its base URL once it
    answers. Its output (the access log) goes to ``output``, or nowhere."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, FEEDS_CONFIG=str(site.config), DATABASE_URL=site.db, PORT=str(port))
    command = web_line().replace("0.0.0.0:$PORT", f"127.0.0.1:{port}")
    proc = subprocess.Popen(
        ["sh", "-c", f"exec {Path(sys.executable).parent}/{command}"],
        env=env,
        stdout=output if output is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output is not None else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class Crowd:
    """``count`` connections to ``port``: half never send a byte, half send a request line
    and then one header byte every half second; any the server closes is opened again."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.socks: dict[socket.socket, bool] = {}  # socket: drips?
        self.reopened = 0
        for i in range(count):
            self._open(drips=i % 2 == 1)

    def _open(self, drips: bool) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setblocking(False)
        if drips:
            sock.send(b"GET /feeds/ours.rss HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        self.socks[sock] = drips
        self.selector.register(sock, selectors.EVENT_READ)

    def tick(self) -> None:
        """Drip one byte on each dripping connection; reopen the ones the server closed."""
        for key, _ in self.selector.select(timeout=0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                closed = sock.recv(4096) == b""
            except OSError:
                closed = True
            if closed:
                drips = self.socks.pop(sock)
                self.selector.unregister(sock)
                sock.close()
                self.reopened += 1
                self._open(drips)
        for sock, drips in list(self.socks.items()):
            if drips:
                with contextlib.suppress(OSError):  # closed: reopened on the next tick
                    sock.send(b"x")

    def close(self) -> None:
        for sock in self.socks:
            sock.close()
        self.selector.close()

"""The Procfile's `web:` line, run for real (gunicorn on a free loopback port)."""

from __future__ import annotations

import os
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

"""`feeds serve`, `feeds scheduler` and `feeds run`: the long-running processes."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from feeds.cli.common import EXIT_OK, AddParser, add_command, config_dir
from feeds.errors import FeedsError
from feeds.reload import ConfigWatcher
from feeds.store import Store

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "8000"


def add_parsers(sub: AddParser) -> None:
    port = int(os.environ.get("PORT", DEFAULT_PORT))
    for name, with_clock, text, description in (
        (
            "serve",
            False,
            "serve the published feeds (the web process alone)",
            "Serve the published documents, /, /sources, /status and /metrics. Publishes "
            "nothing: run `feeds scheduler` (or `feeds update` from cron) beside it. The port "
            "is taken before anything else. When base_url (site.toml, or env FEEDS_BASE_URL) "
            "is not the address served, a warning says so.",
        ),
        (
            "run",
            True,
            "web + scheduler in one process: one machine",
            "Serve the published feeds and run the clock in the same process: fetch every "
            "source on its schedule, re-read the articles and the config, publish. The port "
            "is taken first: a busy port fails before any fetching or publishing. When "
            "base_url (site.toml, or env FEEDS_BASE_URL) is not the address served, a warning "
            "says so.",
        ),
    ):
        parser = add_command(
            sub,
            name,
            _run if with_clock else _serve,
            help=text,
            description=description,
        )
        parser.add_argument(
            "--host",
            default=DEFAULT_HOST,
            help=f"address to listen on; 0.0.0.0 for every interface (default: {DEFAULT_HOST})",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=port,
            help=f"port to listen on; 0 for any free one (env PORT, default: {DEFAULT_PORT})",
        )
    add_command(
        sub,
        "scheduler",
        lambda args: scheduler(config_dir(args), args.database),
        help="the clock process: fetch and publish on schedule",
        description="The clock: fetch every enabled source on its own schedule, re-read the "
        "local articles and the config files when they change, publish the feeds, deliver "
        "hub pings and webhooks. Several may run against one database: one is active, the "
        "others stand by and take over within 30 s if it dies. Runs until stopped (SIGTERM "
        "or Ctrl-C).",
    )


def _serve(args: argparse.Namespace) -> int:
    return serve(config_dir(args), args.database, args.host, args.port, with_clock=False)


def _run(args: argparse.Namespace) -> int:
    return serve(config_dir(args), args.database, args.host, args.port, with_clock=True)


def _stop_signals() -> list[int]:
    """SIGTERM and Ctrl-C from now on: appended to the list returned, nothing else. Raising
    an exception into whatever code a signal lands in (a clock's publish, a lock held)
    could leave that lock held and the stop waiting for ever."""
    stopping: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
    return stopping


def scheduler(config_dir: Path, database: str) -> int:
    """The clock runs in its own threads; this one waits for SIGTERM or Ctrl-C."""
    from feeds.pipeline import Pipeline
    from feeds.reload import ConfigWatcher
    from feeds.scheduler import Clock

    stopping = _stop_signals()
    watcher = ConfigWatcher(config_dir, process="the clock")
    with Store(database) as store, Pipeline(watcher.current, store) as pipeline:
        clock = Clock(pipeline, watcher)
        try:
            clock.start()
            while not stopping:
                time.sleep(STOP_POLL_SECONDS)
        finally:
            clock.shutdown()
    return EXIT_OK


STOP_POLL_SECONDS = 0.2


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``, taken before any other work; FeedsError
    ``cannot listen on HOST:PORT: address in use`` (or why else) when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as werkzeug chooses
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # as werkzeug does: a port left in TIME_WAIT is free again, one in use is not
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        reasons = {
            errno.EADDRINUSE: "address in use (another program listens there; stop it, "
            "or choose another --port)",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
            errno.EADDRNOTAVAIL: "this machine has no such address",
        }
        if isinstance(e, socket.gaierror):
            reason = f"unknown host ({e.strerror})"
        else:
            reason = reasons.get(e.errno or 0, e.strerror or str(e))
        raise FeedsError(f"cannot listen on {shown}: {reason}") from e
    return sock


def serve(config_dir: Path, database: str, host: str, port: int, *, with_clock: bool) -> int:
    """The web server (gunicorn with the Procfile's settings, feeds/webserver.py) in a
    child process on a socket taken first; with the clock in this process beside it."""
    from feeds.reload import ConfigWatcher
    from feeds.web.origin import listening_mismatch

    sock = listen(host, port)  # before the database is even opened
    port = sock.getsockname()[1]  # --port 0: the one given
    clock = None
    web = None
    try:
        watcher = ConfigWatcher(config_dir, process="the clock" if with_clock else "feeds serve")
        warning = listening_mismatch(
            watcher.current.site.base_url, host, port, str(config_dir / "site.toml")
        )
        if warning:
            log.warning("%s", warning)
        stopping = _stop_signals()
        if with_clock:
            Store(database).close()  # the schema, made or migrated before the web opens it
        web = _start_web(sock, config_dir, database)
        shown = f"[{host}]" if ":" in host else host
        print(f"serving on http://{shown}:{port}/", flush=True)
        if with_clock:
            clock = _Beside(watcher, database)
        while not stopping:
            code = web.poll()
            if code is not None and not stopping:  # (Ctrl-C reaches gunicorn too)
                raise FeedsError(f"the web server stopped (exit status {code})")
            time.sleep(STOP_POLL_SECONDS)
        return EXIT_OK
    finally:
        if web is not None and web.poll() is None:
            web.terminate()  # gunicorn: a graceful stop, requests in flight finish
            try:
                web.wait(timeout=GRACE)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
        if clock is not None:
            clock.close()
        sock.close()


GRACE = 30  # seconds the web server has to stop after a SIGTERM (its graceful_timeout + 10)


def _start_web(sock: socket.socket, config_dir: Path, database: str) -> subprocess.Popen[bytes]:
    """gunicorn on the socket ``sock`` (inherited), serving ``config_dir`` and ``database``;
    it stops when this process ends, however that happens (PARENT_ENV)."""
    from feeds.webserver import PARENT_ENV

    env = dict(
        os.environ,
        FEEDS_CONFIG=str(config_dir.absolute()),
        DATABASE_URL=database,
        **{PARENT_ENV: str(os.getpid())},
    )
    command = [sys.executable, "-m", "gunicorn", "--config", "python:feeds.webserver"]
    command += ["--bind", f"fd://{sock.fileno()}"]
    return subprocess.Popen(command, env=env, pass_fds=(sock.fileno(),))


class _Beside:
    """The clock of `feeds run`, in the background of this process."""

    def __init__(self, watcher: ConfigWatcher, database: str) -> None:
        from feeds.pipeline import Pipeline
        from feeds.scheduler import Clock

        self.store = Store(database)
        self.pipeline = Pipeline(watcher.current, self.store)
        self.clock = Clock(self.pipeline, watcher)
        self.clock.start()

    def close(self) -> None:
        self.clock.shutdown()
        self.pipeline.close()
        self.store.close()

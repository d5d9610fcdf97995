"""`feeds serve`, `feeds scheduler` and `feeds run`: the long-running processes."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from types import FrameType

from feeds.cli.common import EXIT_OK, AddParser, add_command, config_dir
from feeds.store import Store


def add_parsers(sub: AddParser) -> None:
    for name, with_clock, text, description in (
        (
            "serve",
            False,
            "serve the published feeds (the web process alone)",
            "Serve the published documents, /, /sources, /status and /metrics. Publishes "
            "nothing: run `feeds scheduler` (or `feeds update` from cron) beside it.",
        ),
        (
            "run",
            True,
            "web + scheduler in one process: one machine",
            "Serve the published feeds and run the clock in the same process: fetch every "
            "source on its schedule, re-read the articles and the config, publish.",
        ),
    ):
        parser = add_command(
            sub,
            name,
            _run if with_clock else _serve,
            help=text,
            description=description,
        )
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT", "8000")),
            help="port to listen on (env PORT)",
        )
    add_command(
        sub,
        "scheduler",
        lambda args: scheduler(config_dir(args), args.database),
        help="the clock process: fetch and publish on schedule",
        description="The clock: fetch every enabled source on its own schedule, re-read the "
        "local articles and the config files when they change, publish the feeds, deliver "
        "hub pings. Runs until stopped (SIGTERM or Ctrl-C).",
    )


def _serve(args: argparse.Namespace) -> int:
    return serve(config_dir(args), args.database, args.host, args.port, with_clock=False)


def _run(args: argparse.Namespace) -> int:
    return serve(config_dir(args), args.database, args.host, args.port, with_clock=True)


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def scheduler(config_dir: Path, database: str) -> int:
    from feeds.pipeline import Pipeline
    from feeds.reload import ConfigWatcher
    from feeds.scheduler import Clock

    watcher = ConfigWatcher(config_dir)
    _stop_on_sigterm()
    with Store(database) as store, Pipeline(watcher.current, store) as pipeline:
        clock = Clock(pipeline, watcher, blocking=True)
        try:
            clock.start()
        except KeyboardInterrupt:
            pass
        finally:
            clock.shutdown()
    return EXIT_OK


def serve(config_dir: Path, database: str, host: str, port: int, *, with_clock: bool) -> int:
    from feeds.web import create_app
    from feeds.web import serve as serve_app

    app = create_app({"FEEDS_CONFIG": str(config_dir), "DATABASE_URL": database})
    clock = None
    pipeline = None
    store = None
    if with_clock:
        from feeds.pipeline import Pipeline
        from feeds.reload import ConfigWatcher
        from feeds.scheduler import Clock

        watcher = ConfigWatcher(config_dir)
        store = Store(database)
        pipeline = Pipeline(watcher.current, store)
        clock = Clock(pipeline, watcher, blocking=False)
        clock.start()
    _stop_on_sigterm()
    print(f"serving on http://{host}:{port}/", flush=True)
    try:
        serve_app(app, host, port)
    except KeyboardInterrupt:
        pass
    finally:
        if clock is not None:
            clock.shutdown()
        if pipeline is not None:
            pipeline.close()
        if store is not None:
            store.close()
    return EXIT_OK

"""Killing `feeds update` leaves no process behind: the parse workers of a large batch (a
fork server, its workers, the resource tracker) go within a few seconds of the update."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from feeds.pipeline.refresh import PROCESS_POOL_MIN_SOURCES
from tests.sites import ALL_SOURCES_FEED, source_toml, write_site
from tests.test_ingestion import rss
from tests.upstream import Upstream

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc (Linux)"
)


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (ppid := parent_of(int(entry.name))) is not None:
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def feeds(tmp_path: Path, config: Path, *args: str) -> subprocess.Popen[bytes]:
    """A `feeds` command on ``config`` and a SQLite database under ``tmp_path``."""
    return subprocess.Popen(
        [sys.executable, "-m", "feeds.cli", "--config", str(config), *args],
        env=dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'feeds.db'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_all_gone(family: set[int], seconds: float) -> None:
    gone_by = time.monotonic() + seconds
    while time.monotonic() < gone_by and any(alive(pid) for pid in family):
        time.sleep(0.1)
    left = sorted(pid for pid in family if alive(pid))
    assert not left, [
        (pid, parent_of(pid), Path(f"/proc/{pid}/cmdline").read_bytes()[:90]) for pid in left
    ]


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killing_an_update_leaves_no_process_behind(
    tmp_path: Path, upstream: Upstream, how: signal.Signals
) -> None:
    now = datetime.now(UTC)
    items = [(f"e{n}", f"Entry {n}", now - timedelta(minutes=n)) for n in range(200)]
    sources = ""
    for n in range(PROCESS_POOL_MIN_SOURCES):  # parsed at once, in the worker processes
        upstream.set(f"/fast{n}.xml", rss(*items))
        sources += source_toml(f"fast{n}", upstream.url(f"/fast{n}.xml"))
    for n in range(8):  # keep the update busy until it is killed
        sources += source_toml(f"hang{n}", upstream.url(f"/hang?n={n}"))
    config = write_site(tmp_path, upstream, sources=sources, feeds=ALL_SOURCES_FEED, deadline=60)
    update = feeds(tmp_path, config, "update")
    try:
        deadline = time.monotonic() + 60
        family: set[int] = set()
        # the fork server, at least one worker, the resource tracker, and every fast source in
        while time.monotonic() < deadline and (
            len(family) < 3 or len(upstream.requests_to("/hang")) < 4
        ):
            assert update.poll() is None, "the update ended before it could be killed"
            family |= descendants(update.pid)
            time.sleep(0.1)
        assert len(family) >= 3, family
        update.send_signal(how)
        update.wait(timeout=10)
        assert_all_gone(family, 5)
    finally:
        if update.poll() is None:
            update.kill()
            update.wait()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killing_feeds_run_leaves_no_web_server_behind(
    tmp_path: Path, upstream: Upstream, how: signal.Signals
) -> None:
    """`feeds run` starts the web server (gunicorn, its workers) as child processes: they
    stop with it, however it ends, and let go of the port."""
    now = datetime.now(UTC)
    upstream.set("/a.xml", rss(("e1", "Entry 1", now)))
    sources = source_toml("a", upstream.url("/a.xml"))
    config = write_site(tmp_path, upstream, sources=sources, feeds=ALL_SOURCES_FEED)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = feeds(tmp_path, config, "run", "--port", str(port))
    try:
        deadline = time.monotonic() + 60
        family: set[int] = set()
        while time.monotonic() < deadline and len(family) < 3:  # gunicorn and two workers
            assert run.poll() is None, "feeds run ended before it could be killed"
            family |= descendants(run.pid)
            time.sleep(0.1)
        assert len(family) >= 3, family
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        run.send_signal(how)
        run.wait(timeout=40)
        assert_all_gone(family, 25)  # a graceful stop: requests in flight may finish
        with socket.socket() as again:  # the port is free again
            again.bind(("127.0.0.1", port))
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()

"""One active clock chosen through the database: the lease (feeds/lease.py), its storage,
the fence of a clock that cannot renew it, and real `feeds scheduler` processes killed with
SIGKILL while standbys wait (on SQLite and PostgreSQL at once)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pytest

from feeds.config import load_config
from feeds.lease import FENCE, LEASE, decide, pid_alive
from feeds.pipeline import Pipeline
from feeds.reload import ConfigWatcher
from feeds.scheduler import Clock
from feeds.store import Store
from feeds.types import ClockBeat
from tests.sites import ALL_SOURCES_FEED, source_toml, write_site
from tests.test_ingestion import rss
from tests.upstream import Upstream

T = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STARTED = T - timedelta(hours=1)


def beat(id: str, age: float, active: bool, host: str = "h1", pid: int = 1) -> ClockBeat:
    return ClockBeat(id, host, pid, STARTED, T - timedelta(seconds=age), active)


def everyone_alive(pid: int) -> bool:
    return True


@pytest.mark.parametrize(
    ("beats", "active", "holder", "taken_from"),
    [
        ([], True, None, None),  # the first clock
        ([beat("a", 3, True)], False, "a", None),  # a fresh holder: stand by
        ([beat("a", 3, False)], True, None, None),  # another standby: no holder
        ([beat("a", LEASE.total_seconds() + 1, True)], True, None, "a"),  # ran out
        ([beat("me", 4, True), beat("a", 2, False)], True, None, None),  # renewal
        # my own claim ran out while another took over: stand by
        ([beat("me", LEASE.total_seconds() + 5, True), beat("a", 2, True)], False, "a", None),
    ],
)
def test_who_holds_the_lease(
    beats: list[ClockBeat], active: bool, holder: str | None, taken_from: str | None
) -> None:
    decision = decide(beats, "me", "h1", T, alive=everyone_alive)
    assert decision.active is active
    assert (decision.holder.id if decision.holder else None) == holder
    assert (decision.taken_from.id if decision.taken_from else None) == taken_from


def test_a_dead_process_on_this_host_loses_the_lease_at_once() -> None:
    beats = [beat("a", 1, True, host="h1", pid=41), beat("b", 1, True, host="h2", pid=41)]
    decision = decide(beats[:1], "me", "h1", T, alive=lambda pid: pid != 41)
    assert decision.active and decision.taken_from == beats[0]
    # the same pid on another host says nothing about that host's process
    assert not decide(beats[1:], "me", "h1", T, alive=lambda pid: pid != 41).active


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc")
def test_a_killed_process_not_yet_reaped_is_not_alive() -> None:
    """A clock killed under a parent that has not reaped it (a zombie) runs nothing: its
    lease goes at once, as a dead process's does."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(child.pid)
        assert child.returncode is None  # not reaped: a zombie all along
    finally:
        child.kill()
        child.wait()
    assert pid_alive(os.getpid())


def test_two_claims_at_once_pick_the_same_winner() -> None:
    early = ClockBeat("x", "h2", 2, STARTED, T - timedelta(seconds=1), True)
    late = ClockBeat("me", "h1", 1, STARTED + timedelta(minutes=1), T, True)
    assert not decide([early, late], "me", "h1", T, alive=everyone_alive).active
    assert decide([early, late], "x", "h2", T, alive=everyone_alive).active


def test_the_lease_in_the_database(db_url: str) -> None:
    with Store(db_url) as store:
        a = store.claim_lease("a", "h1", 1, STARTED, T, alive=everyone_alive)
        b = store.claim_lease("b", "h2", 2, STARTED, T, alive=everyone_alive)
        assert a.active and not b.active and b.holder is not None and b.holder.id == "a"
        later = T + timedelta(seconds=5)
        assert store.claim_lease("a", "h1", 1, STARTED, later, alive=everyone_alive).active
        assert not store.claim_lease("b", "h2", 2, STARTED, later, alive=everyone_alive).active
        # "a" falls silent: after LEASE, "b" takes over, and "a" is no longer marked active
        silent = later + LEASE + timedelta(seconds=1)
        b = store.claim_lease("b", "h2", 2, STARTED, silent, alive=everyone_alive)
        assert b.active and b.taken_from is not None and b.taken_from.id == "a"
        assert [(c.id, c.active) for c in store.clocks()] == [("b", True), ("a", False)]
        # "a" comes back: it stands by
        a = store.claim_lease("a", "h1", 1, STARTED, silent, alive=everyone_alive)
        assert not a.active and a.holder is not None and a.holder.id == "b"
        # "b" stops cleanly: "a" takes over at its next heartbeat, with no one to wait for
        store.clock_stopped("b")
        a = store.claim_lease("a", "h1", 1, STARTED, silent, alive=everyone_alive)
        assert a.active and a.taken_from is None


@pytest.fixture
def clock(tmp_path: Path, upstream: Upstream) -> Iterator[Clock]:
    upstream.set("/w.xml", rss(("e1", "Entry 1", datetime.now(UTC))))
    config = write_site(
        tmp_path, upstream, sources=source_toml("w", upstream.url("/w.xml")), feeds=ALL_SOURCES_FEED
    )
    store = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    pipeline = Pipeline(load_config(config), store)
    c = Clock(pipeline, ConfigWatcher(config))
    c.scheduler.start(paused=True)
    yield c
    c.shutdown()
    pipeline.close()
    store.close()


def test_a_clock_that_cannot_renew_its_lease_stops_fetching(
    clock: Clock, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    clock.monotonic = lambda: now[0]
    clock.heartbeat_job(activate=False)
    assert clock.holding()
    clock.schedule_sources(spread=0)
    assert clock.job_time("w") is not None

    # the database goes away (a partition): the clock carries on until FENCE ...
    def unreachable(*args: object, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(clock.pipeline.store, "claim_lease", unreachable)
    now[0] += FENCE.total_seconds() / 2
    clock.heartbeat_job()
    assert clock.holding() and clock.job_time("w") is not None
    # ... then stops fetching, well before a standby may take the lease
    now[0] += FENCE.total_seconds() / 2
    assert LEASE - timedelta(seconds=5) > FENCE
    assert not clock.holding()
    clock.source_job("w")
    assert upstream.requests_to("/w.xml") == []
    clock.heartbeat_job()
    assert not clock.active and clock.job_time("w") is None

    # back, but another clock took over meanwhile: this one stands by
    monkeypatch.undo()
    clock.pipeline.store.clock_heartbeat("other", "h9", 9, STARTED, datetime.now(UTC), active=True)
    clock.heartbeat_job()
    assert not clock.active
    assert [c.id for c in clock.pipeline.store.clocks() if c.active] == ["other"]


def test_a_clock_stopped_while_it_becomes_active_stops(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM as a standby takes over: becoming active (a job of the clock's own) adds and
    removes jobs; stopping must not wait for it while holding what it waits for."""
    resumed = threading.Event()
    resume = clock.pipeline.resume

    def slow_resume() -> None:
        resumed.set()
        time.sleep(0.5)  # the publish of what is stored: the stop comes in the middle
        resume()

    monkeypatch.setattr(clock.pipeline, "resume", slow_resume)
    clock.heartbeat_job(activate=False)
    clock.scheduler.resume()
    clock.activate_soon()
    assert resumed.wait(10)
    stopper = threading.Thread(target=clock.shutdown, daemon=True)
    stopper.start()
    stopper.join(timeout=15)
    assert not stopper.is_alive(), "the clock did not stop"
    assert not clock.scheduler.running


# --------------------------------------------------------------------------- real processes

SOURCES = 8


class Clocks:
    """`feeds scheduler` processes against one database, and what they fetched."""

    def __init__(self, config: Path, db: str, upstream: Upstream, prefix: str) -> None:
        self.config, self.db, self.upstream, self.prefix = config, db, upstream, prefix
        self.processes: list[subprocess.Popen[bytes]] = []
        self.args = ["--database", db, "scheduler"]
        self.logs: list[BinaryIO] = []
        self.store = Store(db)

    def start(self, count: int, logs: Path) -> None:
        for n in range(count):
            log = (logs / f"clock{n}.log").open("wb")
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "feeds.cli", "--config", str(self.config), *self.args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(os.environ, FEEDS_ALLOW_PRIVATE_ADDRESSES="1"),
                )
            )
            time.sleep(0.3)

    def active(self) -> list[int]:
        """The pids of the clocks marked active with a fresh heartbeat."""
        now = datetime.now(UTC)
        return [c.pid for c in self.store.clocks() if c.active and not c.stale(now)]

    def wait_for_one_active(self, other_than: int | None, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            active = [pid for pid in self.active() if pid != other_than]
            if len(active) == 1:
                return active[0]
            time.sleep(0.2)
        raise AssertionError(f"no single active clock within {seconds} s: {self.active()}")

    def fetches(self) -> dict[str, list[float]]:
        """Each source's fetch start times (monotonic), from the upstream's request log."""
        found: dict[str, list[float]] = {}
        for n in range(SOURCES):
            path = f"/{self.prefix}{n}.xml"
            found[path] = [r.time for r in self.upstream.requests_to(path)]
        return found

    def kill_between_fetches(self, pid: int) -> None:
        """SIGKILL the clock `pid` when every fetch the upstream answered is stored: a fetch
        whose result a killed clock never stored is rightly made again by the next one.

        The clock is frozen (SIGSTOP) before the count, and the count is made once a request
        it had already sent has had time to reach the upstream's log: a clock counted idle
        cannot start a fetch before the kill."""
        process = next(p for p in self.processes if p.pid == pid)
        deadline = time.monotonic() + 30
        while True:
            process.send_signal(signal.SIGSTOP)
            time.sleep(0.3)
            asked = sum(len(times) for times in self.fetches().values())
            stored = sum(1 for s in self.store.source_states().values() if s.last_fetch is not None)
            if asked == stored:
                break
            process.send_signal(signal.SIGCONT)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"clock {pid} never between fetches: {asked} asked, {stored} stored"
                )
            time.sleep(0.05)
        self.kill(pid)

    def kill(self, pid: int) -> None:
        process = next(p for p in self.processes if p.pid == pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()
        self.store.close()


def test_a_clock_stops_on_sigterm_whenever_it_comes(tmp_path: Path, upstream: Upstream) -> None:
    """SIGTERM while a `feeds scheduler` starts, migrates, becomes active, publishes or
    idles: it exits within seconds every time."""
    upstream.set("/t.xml", rss(("e1", "Entry 1", datetime.now(UTC))))
    sources = source_toml("t", upstream.url("/t.xml"))
    config = write_site(tmp_path, upstream, sources=sources, feeds=ALL_SOURCES_FEED)
    command = [sys.executable, "-m", "feeds.cli", "--config", str(config), "--database"]
    command += [f"sqlite:///{tmp_path / 'feeds.db'}", "scheduler"]
    env = dict(os.environ, FEEDS_ALLOW_PRIVATE_ADDRESSES="1")
    for delay in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0):
        clock = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            time.sleep(delay)
            clock.terminate()
            _, err = clock.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            clock.kill()
            raise AssertionError(f"a clock sent SIGTERM after {delay} s did not stop") from None
        # 0; or killed by the signal itself before the handler is set (still importing)
        assert clock.returncode in (0, -signal.SIGTERM), (delay, err[-2000:])


def takeover_scenario(tmp_path: Path, upstream: Upstream, db: str, prefix: str) -> list[float]:
    """Three clocks; the active one is killed during the first round of fetches, then the
    next. Returns the two takeover times (seconds from the kill)."""
    now = datetime.now(UTC)
    sources = ""
    for n in range(SOURCES):
        upstream.set(f"/{prefix}{n}.xml", rss((f"e{n}", f"Entry {n}", now)))
        sources += source_toml(f"{prefix}{n}", upstream.url(f"/{prefix}{n}.xml"), interval="1m")
    config = write_site(tmp_path, upstream, sources=sources, feeds=ALL_SOURCES_FEED)
    clocks = Clocks(config, db, upstream, prefix)
    takeovers = []
    try:
        clocks.start(3, tmp_path)
        first = clocks.wait_for_one_active(None, 20)
        # kill it in the middle of its first round: some sources fetched, some not
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and sum(map(bool, clocks.fetches().values())) < 2:
            time.sleep(0.1)
        clocks.kill_between_fetches(first)
        killed_at = time.monotonic()
        second = clocks.wait_for_one_active(first, 30)
        takeovers.append(time.monotonic() - killed_at)
        # every source is fetched (by the second clock for those the first had not done)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(clocks.fetches().values()):
            time.sleep(0.2)
        assert all(clocks.fetches().values()), clocks.fetches()
        clocks.kill_between_fetches(second)
        killed_at = time.monotonic()
        third = clocks.wait_for_one_active(second, 30)
        takeovers.append(time.monotonic() - killed_at)
        assert third not in (first, second)
        time.sleep(3)  # the third clock has settled in: it must not fetch what is not due
        for path, times in clocks.fetches().items():
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert all(gap > 50 for gap in gaps), (path, gaps)  # interval 1m, jitter 10 %
    finally:
        clocks.stop()
    return takeovers


def test_a_standby_takes_over_within_30_seconds_and_fetches_nothing_twice(
    tmp_path: Path, upstream: Upstream, both_db_urls: tuple[str, str]
) -> None:
    results: dict[str, list[float] | BaseException] = {}

    def run(name: str, db: str) -> None:
        root = tmp_path / name
        root.mkdir()
        try:
            results[name] = takeover_scenario(root, upstream, db, name)
        except BaseException as e:  # reported below, in the test's thread
            results[name] = e

    threads = [
        threading.Thread(target=run, args=a) for a in zip(("s", "p"), both_db_urls, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, result in results.items():
        if isinstance(result, BaseException):
            raise AssertionError(f"on {'SQLite' if name == 's' else 'PostgreSQL'}") from result
        assert all(seconds <= 30 for seconds in result), (name, result)

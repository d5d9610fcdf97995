"""Takeover benchmark: how long the feeds go without an active clock when the active one dies.

Run by hand (never as a test), from the repository root:

    .venv/bin/python bench/takeover.py [--kills 5] [--skip-postgres]

For SQLite (a file) and PostgreSQL (a fresh schema, dropped afterwards): two `feeds scheduler`
processes against one database and a loopback upstream of 4 sources. The active clock is
killed, a new one started in its place, and so on, --kills times in each of three ways:

- SIGTERM: a clean stop, which hands the lease over;
- SIGKILL, same host: the standby sees that the holder's pid is dead;
- SIGKILL, other host: the killed clock ran under another host name (its own UTS namespace,
  `unshare --uts`, which needs root), so the standby cannot tell a dead machine from a slow one
  and waits for the lease (20 s) to run out: what losing a machine costs.

Measured from the signal to the moment the database shows another clock active with a fresh
heartbeat (read every 50 ms). Both databases run at once, each in its own thread.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from overrides import FEEDS, PG, serve, write_config

from feeds.store import Store

HOW = ("SIGTERM", "SIGKILL, same host", "SIGKILL, other host")


def start_clock(config: Path, db: str, log: Path, other_host: bool) -> subprocess.Popen[bytes]:
    command = [*FEEDS, "--config", str(config), "--database", db, "scheduler"]
    if other_host:  # a host name of its own: as if on another machine
        inner = " ".join(f"'{a}'" for a in command)
        command = [
            "unshare",
            "--uts",
            "sh",
            "-c",
            f"hostname machine-b-{uuid.uuid4().hex[:6]} && exec {inner}",
        ]
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def active(store: Store) -> set[int]:
    now = datetime.now(UTC)
    return {c.pid for c in store.clocks() if c.active and not c.stale(now)}


def wait_active(store: Store, other_than: set[int], seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = active(store) - other_than
        if len(found) == 1:
            return found.pop()
        time.sleep(0.05)
    raise SystemExit(f"no clock active within {seconds} s")


def run(db: str, root: Path, kills: int, results: dict[str, list[float]]) -> None:
    base = serve(4, 20)
    config = write_config(root, base, 4)
    log = root / "clocks.log"
    store = Store(db)
    clocks: list[subprocess.Popen[bytes]] = []
    try:
        for how in HOW:
            for _ in range(kills):
                # the one to kill first, alone, so that it is the active one; then a standby
                clocks.append(start_clock(config, db, log, other_host=how.endswith("other host")))
                victim = wait_active(store, set(), 60)
                clocks.append(start_clock(config, db, log, other_host=False))
                time.sleep(6)  # the standby has written a heartbeat: it is known
                # under unshare and sh, which exec, the scheduler keeps the first process's pid
                process = next(p for p in clocks if p.pid == victim)
                process.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
                killed = time.monotonic()
                wait_active(store, {victim}, 60)
                results.setdefault(how, []).append(time.monotonic() - killed)
                for p in clocks:
                    if p.poll() is None:
                        p.terminate()
                for p in clocks:
                    p.wait(timeout=40)
                clocks.clear()
                time.sleep(1)
    finally:
        for p in clocks:
            if p.poll() is None:
                p.kill()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="feeds-bench-takeover-"))
    schema = "bench_" + uuid.uuid4().hex[:10]
    dbs = {"SQLite": f"sqlite:///{folder / 'sqlite' / 'feeds.db'}"}
    if not args.skip_postgres:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        dbs["PostgreSQL"] = f"{PG}?options=-csearch_path%3D{schema}"
    results: dict[str, dict[str, list[float]]] = {name: {} for name in dbs}
    try:
        threads = []
        for name, db in dbs.items():
            root = folder / name.lower()
            root.mkdir(exist_ok=True)
            threads.append(threading.Thread(target=run, args=(db, root, args.kills, results[name])))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        if not args.skip_postgres:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        shutil.rmtree(folder, ignore_errors=True)
    print(f"seconds without an active clock, {args.kills} kills each (median, max):")
    for name, by_how in results.items():
        for how, times in by_how.items():
            shown = " ".join(f"{t:.1f}" for t in times)
            print(
                f"{name:11} {how:20} {statistics.median(times):5.1f} {max(times):5.1f}  ({shown})"
            )


if __name__ == "__main__":
    main()

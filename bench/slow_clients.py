"""Slow-clients benchmark: a normal reader's wait while 1,000 connections sit idle or drip.

Run by hand (never as a test), from the repository root:

    .venv/bin/python bench/slow_clients.py [--hostile 1000] [--seconds 20]

Publishes the ~150 KB RSS document of bench/serve.py into a temporary SQLite database, then
for each of two server settings — the Procfile's (feeds/webserver.py: gevent workers) and the
gthread settings it replaced (2 workers × 4 threads) — starts gunicorn on a free loopback port
and, for --seconds each, first with no other connection and then with --hostile connections
(half never send a byte, half send a request line and then a header byte every half second;
any the server closes is opened again: tests/procfile.py's Crowd), has one reader GET the
feed every 0.2 s with a 5 s timeout. Reports the reader's median, p90 and longest wait and
the requests that failed. Every phase holds /tmp/feeds-bench.lock.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from serve import FEED, LOCK, ROOT, free_port, gunicorn_command, publish, start, stop, wait_ready

sys.path.insert(0, str(ROOT))
from tests.procfile import Crowd

GTHREAD = [
    str(ROOT / ".venv" / "bin" / "gunicorn"),
    *("--workers", "2", "--threads", "4", "--worker-class", "gthread"),
    *("--access-logfile", "-", "feeds.web:create_app()"),
]


def reader(base: str, seconds: float, crowd: Crowd | None) -> tuple[list[float], int]:
    waits: list[float] = []
    failed = 0
    end = time.monotonic() + seconds
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < end:
            if crowd is not None:
                crowd.tick()
            started = time.monotonic()
            try:
                response = client.get(f"{base}/feeds/{FEED}.rss")
                response.raise_for_status()
                waits.append(time.monotonic() - started)
            except httpx.HTTPError:
                failed += 1
            time.sleep(0.2)
    return waits, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hostile", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="feeds-bench-slow-"))
    rows = []
    try:
        config_dir, db_url = publish(folder)
        env = {"FEEDS_CONFIG": str(config_dir), "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
        env |= {k: v for k, v in os.environ.items() if k == "PATH"}
        for name in ("gevent (feeds/webserver.py)", "gthread 2 x 4 (before)"):
            port = free_port()
            command = gunicorn_command(port, None)
            if name.startswith("gthread"):
                command = [*GTHREAD[:-1], "--bind", f"127.0.0.1:{port}", GTHREAD[-1]]
            process = start(command, env, folder / "server.log")
            base = f"http://127.0.0.1:{port}"
            try:
                wait_ready(f"{base}/feeds/{FEED}.rss", process)
                for hostile in (0, args.hostile):
                    with open(LOCK, "w") as lock:
                        fcntl.flock(lock, fcntl.LOCK_EX)
                        crowd = Crowd(port, hostile) if hostile else None
                        try:
                            waits, failed = reader(base, args.seconds, crowd)
                        finally:
                            if crowd is not None:
                                crowd.close()
                    rows.append((name, hostile, waits, failed))
                    print(rows[-1][:2], len(waits), failed, flush=True)
            finally:
                stop(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nreader every 0.2 s for {args.seconds:.0f} s, 5 s timeout (ms):")
    print(
        f"{'server':30} {'others':>6} {'answered':>8} {'failed':>6} {'median':>7} {'p90':>7} "
        f"{'max':>7}"
    )
    for name, hostile, waits, failed in rows:
        if waits:
            ordered = sorted(waits)
            p90 = ordered[int(0.9 * (len(ordered) - 1))]
            cells = (statistics.median(waits), p90, max(waits))
            shown = " ".join(f"{1000 * v:7.1f}" for v in cells)
        else:
            shown = f"{'-':>7} {'-':>7} {'-':>7}"
        print(f"{name:30} {hostile:6} {len(waits):8} {failed:6} {shown}")


if __name__ == "__main__":
    main()

"""How soon an article the CMS pushes through the API is in the published documents, with the
clock running in another process (issue 12: "within 10 seconds", on SQLite and PostgreSQL).

    .venv/bin/python bench/api.py [--rounds 10] [--sources 50] [--items 50]
                                  [--postgres-url URL] [--skip-postgres]

For SQLite (a file) and PostgreSQL (a fresh schema, dropped afterwards): a loopback upstream
serves SOURCES generated RSS feeds of ITEMS items; `feeds update` stores them; a `feeds
scheduler` starts in its own process for each database, both running at once; the web app
runs in this process (the API's requests through its WSGI interface). Then ROUNDS rounds,
alternating the databases within each round (SQLite, PostgreSQL, then PostgreSQL, SQLite the
next round): `PUT /api/articles/<slug>` of a new article, then of a corrected version of it,
each after a random pause of up to a second (so that writes do not fall in step with the
clock's 1 s poll). Measured for each PUT: from its start to the moment the stored RSS
document of the feed "ours" (local articles only) has new bytes (a new ETag), read every 20 ms.
A web process serves a stored document from the moment it is stored.
Every run holds /tmp/feeds-bench.lock.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overrides import FEEDS, PG, serve, write_config

from feeds.store import Store
from feeds.types import Format
from feeds.web import create_app, state
from feeds.web.auth import new_key

BASE_URL = "https://feeds.outlet.example"  # as write_config says: no warning
LOCAL_FEEDS = (
    '[[feed]]\nname = "all"\ntitle = "All"\nsources = ["*"]\nlocal = true\nlimit = 50\n\n'
    '[[feed]]\nname = "ours"\ntitle = "Ours"\nlocal = true\nlimit = 50\n'
)


def etag(store: Store) -> str:
    document = store.get_document("ours", Format.RSS)
    return "" if document is None else document.etag


class Run:
    """One database: its clock process, the web app, the PUTs measured."""

    def __init__(self, name: str, config: Path, database: str, key: str, env: dict[str, str]):
        self.name, self.database = name, database
        args = ["--config", str(config), "--database", database]
        subprocess.run([*FEEDS, *args, "update"], check=True, env=env, capture_output=True)
        self.clock = subprocess.Popen(
            [*FEEDS, *args, "scheduler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.app = create_app({"FEEDS_CONFIG": str(config), "DATABASE_URL": database})
        self.http = self.app.test_client()
        self.store = Store(database)
        self.headers = {"Authorization": f"Bearer {key}"}
        self.seconds: list[float] = []
        self.puts: list[float] = []

    def put(self, slug: str, title: str) -> None:
        time.sleep(random.uniform(0, 1))  # not in step with the clock's 1 s poll
        body = {"title": title, "date": datetime.now(UTC).isoformat(), "body": f"{title}."}
        before = etag(self.store)
        start = time.perf_counter()
        response = self.http.put(
            f"/api/articles/{slug}", json=body, headers=self.headers, base_url=BASE_URL
        )
        self.puts.append(time.perf_counter() - start)
        assert response.status_code in (200, 201), response.data
        while etag(self.store) == before:
            if time.perf_counter() - start > 60:
                raise SystemExit(f"{self.name}: {slug} not published within 60 s")
            time.sleep(0.02)
        self.seconds.append(time.perf_counter() - start)

    def stop(self) -> None:
        self.clock.send_signal(signal.SIGTERM)
        self.clock.wait(timeout=60)
        state(self.app).store.close()
        self.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--postgres-url", default=PG)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    lock = open("/tmp/feeds-bench.lock", "w")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    env = dict(os.environ, FEEDS_ALLOW_PRIVATE_ADDRESSES="1")
    base = serve(args.sources, args.items)
    key, digest = new_key()
    schema = "bench_" + uuid.uuid4().hex[:10]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), base, args.sources)
        (config / "feeds.toml").write_text(LOCAL_FEEDS, encoding="utf-8")
        (config / "access.toml").write_text(
            f'[[client]]\nid = "cms"\nname = "CMS"\nscopes = ["articles"]\n'
            f'key_sha256 = "{digest}"\n',
            encoding="utf-8",
        )
        try:
            runs.append(Run("SQLite", config, f"sqlite:///{tmp}/bench.db", key, env))
            if not args.skip_postgres:
                with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                url = f"{args.postgres_url}?options=-csearch_path%3D{schema}"
                runs.append(Run("PostgreSQL", config, url, key, env))
            time.sleep(5)  # the clocks start and publish what is stored
            for n in range(args.rounds):
                for run in runs if n % 2 == 0 else reversed(runs):
                    run.put(f"story-{n}", f"Story {n}")
                    run.put(f"story-{n}", f"Story {n}, corrected")
        finally:
            for run in runs:
                run.stop()
            if not args.skip_postgres:
                with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    print("| database | PUTs | median | p90 | max | the PUT itself (median) |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        s = sorted(run.seconds)
        p90 = s[max(0, int(len(s) * 0.9) - 1)]
        print(
            f"| {run.name} | {len(s)} | **{statistics.median(s):.2f} s** | {p90:.2f} s | "
            f"{s[-1]:.2f} s | {statistics.median(run.puts) * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()

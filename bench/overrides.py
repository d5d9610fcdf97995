"""How soon an editor's override reaches the published documents, with the clock running in
another process (issue 11: "within 5 seconds").

    .venv/bin/python bench/overrides.py [--rounds 10] [--sources 50] [--items 50]
                                        [--postgres-url URL] [--skip-postgres]
                                        [--preview-runs 5]

For SQLite (a file) and PostgreSQL (a fresh schema, dropped afterwards): a loopback upstream
serves SOURCES generated RSS feeds of ITEMS items; `feeds update` stores them; `feeds scheduler`
starts in its own process; then, ROUNDS times, `feeds hide LINK` (a new process, as an editor
runs it) of the newest item of the feed "all", then `feeds unhide LINK`, each after a random
pause of up to a second (so that commands do not fall in step with the clock's 1 s poll).
Measured for each command: from its start to the moment the stored RSS document of "all" has
new bytes (a new ETag), read every 20 ms from this process. A web process serves a stored
document from that moment. Every run holds
/tmp/feeds-bench.lock.

Then `feeds preview`'s speed (issue 11: "under a second on the shipped config"): the shipped
config/ (its feeds, filters and articles) with each of its sources served from loopback (the
same generated feeds, ITEMS items each), stored by `feeds update`
in a SQLite file; then `feeds preview FEED --explain` for every shipped feed, PREVIEW_RUNS
times each as an editor runs it (a new process), wall time median and max.
"""

from __future__ import annotations

import argparse
import fcntl
import http.server
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from feeds.store import Store
from feeds.types import Format

PG = "postgresql://postgres@127.0.0.1:5432/test"
FEEDS = [sys.executable, "-m", "feeds.cli"]


def rss(source: int, items: int) -> bytes:
    base = datetime(2026, 11, 30, tzinfo=UTC)
    body = "".join(
        f"<item><guid isPermaLink='false'>s{source}-{n}</guid><title>Story {source}.{n}</title>"
        f"<link>https://wire.example/s{source}/{n}</link><description>Text {n}</description>"
        f"<pubDate>{(base - timedelta(minutes=7 * n + source)):%a, %d %b %Y %H:%M:%S} GMT"
        "</pubDate></item>"
        for n in range(items)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>S</title>"
        f"<link>https://wire.example/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def serve(sources: int, items: int) -> str:
    bodies = {f"/s{n}.xml": rss(n, items) for n in range(sources)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def write_config(root: Path, base: str, sources: int) -> Path:
    config = root / "config"
    (config / "articles").mkdir(parents=True)
    (config / "site.toml").write_text(
        'title = "Bench"\nlink = "https://outlet.example/"\n'
        'base_url = "https://feeds.outlet.example"\ndescription = "d"\nlanguage = "en"\n'
        'articles = "articles"\n[fetch]\nallow_private_addresses = true\nper_host = 16\n'
        "host_spacing = 0\n",
        encoding="utf-8",
    )
    (config / "sources.toml").write_text(
        "".join(
            f'[[source]]\nid = "s{n}"\nurl = "{base}/s{n}.xml"\ntitle = "S{n}"\n'
            f'tags = ["{"a" if n % 2 else "b"}"]\ninterval = "1h"\n\n'
            for n in range(sources)
        ),
        encoding="utf-8",
    )
    (config / "feeds.toml").write_text(
        '[[feed]]\nname = "all"\ntitle = "All"\nsources = ["*"]\nlimit = 50\n\n'
        '[[feed]]\nname = "half"\ntitle = "Half"\nsources = ["tag:a"]\nlimit = 50\n\n'
        '[[feed]]\nname = "summary"\ntitle = "Summary"\nsources = ["*"]\nlimit = 100\n'
        'content = "summary"\n',
        encoding="utf-8",
    )
    return config


def etag(store: Store) -> str:
    document = store.get_document("all", Format.RSS)
    assert document is not None
    return document.etag


def newest_link(store: Store) -> str:
    document = store.get_document("all", Format.RSS)
    assert document is not None
    body = document.body.decode()
    start = body.index("<item>")
    return body[body.index("<link>", start) + 6 : body.index("</link>", start)]


def measure(
    config: Path, database: str, rounds: int, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Seconds from each command's start to the new document, and each command's own run."""
    args = ["--config", str(config), "--database", database]
    subprocess.run([*FEEDS, *args, "update"], check=True, env=env, capture_output=True)
    clock = subprocess.Popen(
        [*FEEDS, *args, "scheduler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seconds, commands = [], []
    try:
        time.sleep(5)  # the clock starts and publishes what is stored
        with Store(database) as store:
            for _ in range(rounds):
                link = newest_link(store)
                for command in ("hide", "unhide"):
                    time.sleep(random.uniform(0, 1))  # not in step with the clock's 1 s poll
                    before = etag(store)
                    start = time.perf_counter()
                    subprocess.run(
                        [*FEEDS, *args, command, link], check=True, env=env, capture_output=True
                    )
                    commands.append(time.perf_counter() - start)
                    while etag(store) == before:
                        if time.perf_counter() - start > 60:
                            raise SystemExit(f"{command} not published within 60 s")
                        time.sleep(0.02)
                    seconds.append(time.perf_counter() - start)
    finally:
        clock.send_signal(signal.SIGTERM)
        clock.wait(timeout=60)
    return seconds, commands


def preview_times(root: Path, base: str, runs: int, env: dict[str, str]) -> None:
    repository = Path(__file__).resolve().parent.parent
    config = root / "shipped" / "config"  # articles = "../content/articles"
    shutil.copytree(repository / "config", config)
    shutil.copytree(repository / "content", root / "shipped" / "content")
    sources = (config / "sources.toml").read_text(encoding="utf-8")
    count = 0

    def loopback(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f'url = "{base}/s{count - 1}.xml"'

    (config / "sources.toml").write_text(
        re.sub(r'^url = "[^"]*"', loopback, sources, flags=re.MULTILINE), encoding="utf-8"
    )
    args = ["--config", str(config), "--database", f"sqlite:///{root / 'shipped.db'}"]
    subprocess.run([*FEEDS, *args, "update"], check=True, env=env, capture_output=True)
    names = re.findall(r'^name = "([^"]+)"', (config / "feeds.toml").read_text(), re.MULTILINE)
    for name in names:
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(
                [*FEEDS, *args, "preview", name, "--explain"], env=env, capture_output=True
            )
            seconds.append(time.perf_counter() - start)
            assert done.returncode == 0, done.stderr
        shown = done.stdout.decode().splitlines()[0]
        print(
            f"preview {name} --explain: median {statistics.median(seconds):.2f} s, "
            f"max {max(seconds):.2f} s ({shown})",
            flush=True,
        )


def report(name: str, measured: tuple[list[float], list[float]]) -> None:
    seconds, commands = measured
    ordered = sorted(seconds)
    p90 = ordered[max(0, round(0.9 * len(ordered)) - 1)]
    print(
        f"{name}: {len(seconds)} commands; command start to new document: median "
        f"{statistics.median(seconds):.2f} s, p90 {p90:.2f} s, max {ordered[-1]:.2f} s "
        f"(min {ordered[0]:.2f} s); the command itself: median "
        f"{statistics.median(commands):.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--postgres-url", default=os.environ.get("FEEDS_TEST_POSTGRES", PG))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--preview-runs", type=int, default=5)
    args = parser.parse_args()
    base = serve(max(args.sources, 20), args.items)
    env = dict(os.environ, FEEDS_ALLOW_PRIVATE_ADDRESSES="1")
    with tempfile.TemporaryDirectory() as tmp, open("/tmp/feeds-bench.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        root = Path(tmp)
        preview_times(root, base, args.preview_runs, env)
        if args.rounds < 1:
            return
        config = write_config(root, base, args.sources)
        report("SQLite", measure(config, f"sqlite:///{root / 'feeds.db'}", args.rounds, env))
        if args.skip_postgres:
            return
        schema = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            url = f"{args.postgres_url}?options=-csearch_path%3D{schema}"
            report("PostgreSQL", measure(config, url, args.rounds, env))
        finally:
            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()

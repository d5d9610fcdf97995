"""Serving benchmark: our app vs a minimal Flask app returning the same bytes from memory,
partners' keyed reads vs the public feed, and readership counting on vs off.

Run by hand (never as a test), from the repository root:

    .venv/bin/python bench/serve.py [--duration 10] [--connections 8] [--threads 2] [--rounds 3]
                                    [--before TREE] [--postgres [URL]]

It publishes a ~150 KB RSS document with the real pipeline into a temporary SQLite database
(with --postgres [URL]: into a schema bench_serve of PostgreSQL, by default the local test
database) — a public feed, and a partners feed of the same articles with one partner's key in
access.toml — starts gunicorn three times with exactly the Procfile's `web:` settings (host
127.0.0.1, a free port): ours, ours with readership counting switched off
(FEEDS_READERSHIP=0), and the baseline (the same line with only the app swapped). Each round
runs wrk, back to back in an order that alternates from round to round:

- 200, 304 (If-None-Match): the public feed on ours, on ours without counting and on the
  baseline; the partners feed on ours with the key as ``Authorization: Bearer`` and as HTTP
  Basic credentials;
- gzip (Accept-Encoding: gzip): ours and the baseline.

With --before TREE (a git worktree of an earlier commit), a fourth server runs that tree's app
with this tree's server settings, and ours / before is reported for 200, 304 and gzip.

Ratios are of the same round's runs (ours/baseline, counting on/off, keyed/public), then the
median over rounds. At the end the servers stop gracefully (their workers flush their counts)
and the requests ours counted are compared with those wrk made. Every wrk run holds the lock
/tmp/feeds-bench.lock (flock) so it never overlaps another benchmark or test run on this
machine; a run during which other processes still used more than --quiet-cores of CPU, or
one gunicorn worker did more than --balance of the work (wrk's connections landed on one
worker, whose GIL halves the server's throughput), is made again (--retries). Installs wrk
with apt-get when it is missing.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import gzip as gzip_module
import hashlib
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = "/tmp/feeds-bench.lock"
FEED = "bench"
PARTNERS_FEED = "bench-partners"
PARTNER = "bench-partner"
KEY = secrets.token_urlsafe(32)  # this run's partner key; access.toml holds its hash
TARGET_BYTES = 150_000
PG_SCHEMA = "bench_serve"

# ----------------------------------------------------------------- the baseline app


def baseline_app() -> object:
    """A minimal Flask app: the stored bytes (and gzip copy) from memory, 304 on a match.

    Reads the files written by the driver (BENCH_DOC_DIR) once, at start-up.
    """
    from flask import Flask, Response, request

    folder = Path(os.environ["BENCH_DOC_DIR"])
    body = (folder / "body").read_bytes()
    gz = (folder / "gzip").read_bytes()
    etag = (folder / "etag").read_text()
    content_type = (folder / "content_type").read_text()
    app = Flask("baseline")

    @app.route("/feeds/<name>.rss")
    def feed(name: str) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            headers = {"ETag": etag, "Content-Encoding": "gzip"}
            return Response(gz, headers=headers, content_type=content_type)
        return Response(body, headers={"ETag": etag}, content_type=content_type)

    return app


# ----------------------------------------------------------------- the stored feed

WORDS = tuple(
    " ".join(
        (
            "officials beirut said tuesday reconstruction port grain silos would wait end",
            "judicial investigation while families victims gathered site monthly vigil reuters",
            "reported cabinet had not yet discussed engineers report which recommends keeping",
            "northern block memorial demolishing rest structure before next winter storms amman",
            "baghdad water aid convoy ministry border crossing refugees electricity fuel",
            "shortage parliament vote budget court protest negotiations ceasefire hospital",
            "school displaced farmers harvest drought",
        )
    ).split(" ")
)


def paragraph(rng: random.Random) -> str:
    """Prose-like text that compresses about as well as real articles (not a repeated line)."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(60, 90))]
    words[0] = words[0].capitalize()
    return " ".join(words) + f" ({rng.randint(1, 99999)})."


def write_site(folder: Path, articles: int) -> Path:
    config = folder / "config"
    (config / "articles").mkdir(parents=True)
    (config / "site.toml").write_text(
        'title = "Bench Outlet"\nlink = "https://outlet.example/"\n'
        'base_url = "https://feeds.outlet.example"\ndescription = "Benchmark site"\n'
        'language = "en"\narticles = "articles"\n',
        encoding="utf-8",
    )
    (config / "sources.toml").write_text(
        '[[source]]\nid = "wire"\nurl = "https://wire.example/feed.xml"\n'
        'title = "Wire"\ntags = ["wire"]\ninterval = "15m"\n',
        encoding="utf-8",
    )
    (config / "feeds.toml").write_text(
        f'[[feed]]\nname = "{FEED}"\ntitle = "Bench"\nlocal = true\nlimit = {articles}\n\n'
        f'[[feed]]\nname = "{PARTNERS_FEED}"\ntitle = "Bench, for partners"\nlocal = true\n'
        f'limit = {articles}\naccess = "partners"\n',
        encoding="utf-8",
    )
    (config / "access.toml").write_text(
        f'[[partner]]\nid = "{PARTNER}"\nname = "Bench partner"\nfeeds = ["{PARTNERS_FEED}"]\n'
        f'key_sha256 = "{hashlib.sha256(KEY.encode()).hexdigest()}"\n',
        encoding="utf-8",
    )
    rng = random.Random(articles)
    for n in range(articles):
        body = "\n\n".join(paragraph(rng) for _ in range(4))
        (config / "articles" / f"story-{n:03d}.md").write_text(
            "---\n"
            f'title: "Story number {n} from the region"\n'
            f"date: 2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00+02:00\n"
            'author: "Rania Abou-Zeid"\n'
            f"tags: [lebanon, beirut, t{n % 7}]\n"
            "image:\n"
            f"  url: https://outlet.example/media/{n}.jpg\n"
            '  caption: "The damaged silos at dawn."\n'
            '  credit: "Photo: Maya Haddad/Outlet"\n'
            "  width: 1600\n  height: 1067\n"
            "---\n" + body + "\n",
            encoding="utf-8",
        )
    return config


def pg_schema(postgres: str, *, create: bool = True) -> str:
    """Drop the schema PG_SCHEMA of the PostgreSQL database `postgres` (an earlier run may
    have left it) and, with `create`, make it anew; returns its URL."""
    import psycopg

    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        if create:
            conn.execute(f"CREATE SCHEMA {PG_SCHEMA}")
    return f"{postgres}?options=-csearch_path%3D{PG_SCHEMA}"


def publish(folder: Path, postgres: str | None) -> tuple[Path, str]:
    """Publish the feed with the real pipeline, into a SQLite file or, with `postgres`, a
    fresh schema of that database; returns (config dir, database URL)."""
    sys.path.insert(0, str(ROOT))
    from feeds.config import load_config
    from feeds.pipeline import Pipeline
    from feeds.store import Store
    from feeds.types import Format

    articles = 60
    for _attempt in range(4):
        work = folder / f"site-{articles}"
        config_dir = write_site(work, articles)
        url = pg_schema(postgres) if postgres else f"sqlite:///{work / 'feeds.db'}"
        store = Store(url)
        with Pipeline(load_config(config_dir), store) as pipeline:
            pipeline.sync_articles()
            pipeline.publish_all()
        document = store.get_document(FEED, Format.RSS)
        keyed = store.get_document(PARTNERS_FEED, Format.RSS)
        store.close()
        assert document is not None and keyed is not None
        if abs(len(document.body) - TARGET_BYTES) <= TARGET_BYTES * 0.03:
            break
        articles = round(articles * TARGET_BYTES / len(document.body))
    docs = folder / "doc"
    docs.mkdir()
    (docs / "body").write_bytes(document.body)
    (docs / "gzip").write_bytes(document.gzip)
    (docs / "etag").write_text(document.etag)
    (docs / "content_type").write_text(document.content_type)
    (docs / "keyed_etag").write_text(keyed.etag)
    print(
        f"stored document: {len(document.body)} bytes RSS ({articles} articles), "
        f"gzip {len(document.gzip)} bytes, etag {document.etag}; partners feed "
        f"{len(keyed.body)} bytes"
    )
    return config_dir, url


# ----------------------------------------------------------------- processes


def procfile_web() -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return shlex.split(line[4:].strip())
    raise SystemExit("no web: line in Procfile")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_command(port: int, app: str | None) -> list[str]:
    """The Procfile's web: command with host/port substituted (and the app, for the baseline).
    Its settings module is named by file, so that a server of another tree (--before, on
    PYTHONPATH) runs with this tree's settings."""
    command = []
    for arg in procfile_web():
        arg = arg.replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1")
        arg = arg.replace("python:feeds.webserver", f"file:{ROOT / 'feeds/webserver.py'}")
        command.append(arg)
    if app is not None:
        command.append(app)  # over the settings' wsgi_app
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    if command[0] == "gunicorn" and gunicorn.exists():
        command[0] = str(gunicorn)
    return command


def start(
    command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    print("$", " ".join(shlex.quote(a) for a in command), f"(in {cwd})")
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} not ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ----------------------------------------------------------------- wrk


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "update"], check=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk not installed")
    return found


def process_tree(pid: int) -> list[int]:
    """The gunicorn master and its workers."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(entry.name))
    return pids


def cpu_by_process(pids: list[int]) -> list[float]:
    """User + system CPU time used so far by each of these processes."""
    found = []
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        found.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes."""
    return sum(cpu_by_process(pids))


def rps_of(match: re.Match[str]) -> float:
    return float(match.group(1))


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, headers: list[str], args: argparse.Namespace, pids: list[int] | None = None
) -> tuple[float, float, int]:
    """Requests/s, server CPU microseconds per request (gunicorn master + workers), and the
    number of requests made (of every attempt).

    The lock is held around the run. With the servers' pids known (master first, then its
    workers), a run is made again, up to ``--retries`` times (the last attempt counts
    whatever it measured), when it was disturbed: other processes on this shared machine used
    more than ``--quiet-cores`` of CPU during it, or one gunicorn worker did more than
    ``--balance`` of the work (wrk's connections landed mostly on one worker, whose GIL then
    caps the server at about one core: throughput halves whatever the code)."""
    command = [args.wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    made = 0
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for attempt in range(args.retries + 1 if pids else 1):
                busy, before, children = machine_busy(), cpu_by_process(pids or []), os.times()
                started = time.monotonic()
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                elapsed = time.monotonic() - started
                each = [b - a for a, b in zip(before, cpu_by_process(pids or []), strict=True)]
                used = sum(each)
                workers = each[1:]
                share = max(workers) / sum(workers) if len(workers) > 1 and sum(workers) else 0
                after = os.times()
                wrk_cpu = after.children_user + after.children_system
                wrk_cpu -= children.children_user + children.children_system
                foreign = (machine_busy() - busy - used - wrk_cpu) / elapsed
                match = re.search(r"Requests/sec:\s*([\d.]+)", out)
                count = re.search(r"(\d+) requests in", out)
                errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
                if match is None:
                    raise SystemExit(out)
                if errors:
                    print("   wrk:", errors.group(0))
                requests = int(count.group(1)) if count else 0
                made += requests
                quiet, balanced = foreign <= args.quiet_cores, share <= args.balance
                if not pids or (quiet and balanced) or attempt == args.retries:
                    break
                why = [] if quiet else [f"other processes used {foreign:.2f} cores"]
                why += [] if balanced else [f"one worker did {share:.0%} of the work"]
                print(f"   disturbed ({rps_of(match):.0f} req/s): {', '.join(why)}; again")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return float(match.group(1)), used * 1e6 / max(requests, 1), made


def check(url: str, headers: dict[str, str], status: int, body: bytes | None) -> None:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            got_status, got = response.status, response.read()
    except urllib.error.HTTPError as e:
        got_status, got = e.code, e.read()
    assert got_status == status, (url, headers, got_status)
    if body is not None:
        assert got == body, (url, headers, len(got), len(body))


# (case, server, URL path, wrk headers, urllib headers, expected status, expected body)
Run = tuple[str, str, str, list[str], dict[str, str], int, bytes | None]


def runs(etag: str, keyed_etag: str, body: bytes, before: bool = False) -> list[Run]:
    """Every wrk run of a round, grouped by case; within a case the order alternates."""
    public_servers = ("ours", "uncounted", "baseline") + (("before",) if before else ())
    public, keyed = f"/feeds/{FEED}.rss", f"/feeds/{PARTNERS_FEED}.rss"
    bearer = f"Bearer {KEY}"
    basic = "Basic " + base64.b64encode(f"{PARTNER}:{KEY}".encode()).decode()
    found: list[Run] = []
    for case, extra, keyed_extra, status, expected in (
        ("200", {}, {}, 200, body),
        ("304", {"If-None-Match": etag}, {"If-None-Match": keyed_etag}, 304, b""),
    ):
        for server in public_servers:
            found.append((case, server, public, [], extra, status, expected))
        for label, value in (("bearer", bearer), ("basic", basic)):
            headers = {**keyed_extra, "Authorization": value}
            found.append((case, label, keyed, [], headers, status, None))
    gz = {"Accept-Encoding": "gzip"}
    for server in ("ours", "baseline") + (("before",) if before else ()):
        found.append(("gzip", server, public, [], gz, 200, None))
    return [
        (case, server, path, [f"{k}: {v}" for k, v in headers.items()], headers, status, want)
        for case, server, path, _, headers, status, want in found
    ]


# Which server each run label is served by.
SERVER_OF = {"ours": "ours", "uncounted": "uncounted", "baseline": "baseline", "before": "before"}
SERVER_OF |= {"bearer": "ours", "basic": "ours"}
# The ratios reported: (name, numerator run, denominator run, cases, target).
RATIOS = (
    ("ours / baseline", "ours", "baseline", ("200", "304", "gzip"), None),
    ("counting on / off", "ours", "uncounted", ("200", "304"), 0.95),
    ("keyed Bearer / public", "bearer", "ours", ("200", "304"), 0.9),
    ("keyed Basic / public", "basic", "ours", ("200", "304"), 0.9),
    ("ours / before", "ours", "before", ("200", "304", "gzip"), 0.95),
)


def counted_requests(db_url: str) -> int:
    """Every request ours counted (flushed when its workers stopped)."""
    sys.path.insert(0, str(ROOT))
    from feeds.store import Store

    store = Store(db_url)
    try:
        return sum(r.requests for r in store.readership().feeds)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--quiet-cores",
        type=float,
        default=0.15,
        help="CPU (in cores) other processes may use during a run before it is made again",
    )
    parser.add_argument(
        "--balance",
        type=float,
        default=0.7,
        help="the largest share of a run's server CPU one worker may use before it is made again",
    )
    parser.add_argument("--retries", type=int, default=2, help="of a disturbed run")
    parser.add_argument(
        "--before",
        type=Path,
        help="another tree (a git worktree) whose app is served too, with this tree's server "
        "settings, as 'before': 200, 304 and gzip on it against ours",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432/test",
        help=f"serve from PostgreSQL (schema {PG_SCHEMA} of this database, default the local "
        "test database) instead of a SQLite file",
    )
    args = parser.parse_args()
    args.wrk = ensure_wrk()

    folder = Path(tempfile.mkdtemp(prefix="feeds-bench-serve-"))
    processes = {}
    try:
        config_dir, db_url = publish(folder, args.postgres)
        docs = folder / "doc"
        etag = (docs / "etag").read_text()
        keyed_etag = (docs / "keyed_etag").read_text()
        body = (docs / "body").read_bytes()
        assert gzip_module.decompress((docs / "gzip").read_bytes()) == body

        env = dict(os.environ, FEEDS_CONFIG=str(config_dir), DATABASE_URL=db_url)
        env["BENCH_DOC_DIR"] = str(docs)
        env["PYTHONPATH"] = str(ROOT)
        env.pop("FEEDS_READERSHIP", None)
        names = ("ours", "uncounted", "baseline") + (("before",) if args.before else ())
        ports = {name: free_port() for name in names}
        for name, port in ports.items():
            app = "bench.serve:baseline_app()" if name == "baseline" else None
            server_env = dict(env, FEEDS_READERSHIP="0") if name == "uncounted" else env
            cwd = ROOT
            if name == "before":  # gunicorn puts its working directory first on sys.path
                cwd = args.before.resolve()
                server_env = dict(env, PYTHONPATH=str(cwd))
            log = folder / f"{name}.log"
            processes[name] = start(gunicorn_command(port, app), server_env, log, cwd)
        base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, process in processes.items():
            wait_ready(f"{base[name]}/feeds/{FEED}.rss", process)

        plan = runs(etag, keyed_etag, body, before=args.before is not None)
        made = 0  # requests sent to ours (each counted, if counting works)
        for _case, label, path, _wrk_headers, headers, status, expected in plan:
            check(f"{base[SERVER_OF[label]]}{path}", headers, status, expected)
            made += SERVER_OF[label] in ("ours", "before")  # both count into one database
        made += 1  # wait_ready's request

        pids = {name: process_tree(process.pid) for name, process in processes.items()}
        results: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds, "
            f"each run holding {LOCK}; a run disturbed (other processes > {args.quiet_cores} "
            f"cores, or one worker > {args.balance:.0%} of the work) is made again, up to "
            f"{args.retries} times"
        )
        warm = argparse.Namespace(**{**vars(args), "duration": 2})
        for _case, label, path, wrk_headers, *_rest in plan:  # imports, caches, connections
            *_, requests = wrk(f"{base[SERVER_OF[label]]}{path}", wrk_headers, warm)
            made += requests if SERVER_OF[label] in ("ours", "before") else 0
        for round_number in range(args.rounds):
            for case in ("200", "304", "gzip"):
                mine = [run for run in plan if run[0] == case]
                if round_number % 2:
                    mine.reverse()
                for _case, label, path, wrk_headers, *_rest in mine:
                    server = SERVER_OF[label]
                    rps, us, requests = wrk(
                        f"{base[server]}{path}", wrk_headers, args, pids[server]
                    )
                    made += requests if server in ("ours", "before") else 0
                    results.setdefault((case, label), []).append(rps)
                    cpu.setdefault((case, label), []).append(us)
                    print(
                        f"  round {round_number + 1} {case:5} {label:10} {rps:10.1f} req/s"
                        f" {us:8.0f} us CPU/request"
                    )

        print("\nrequests/s, medians of rounds (server CPU us/request):")
        labels = ("ours", "uncounted", "baseline", "bearer", "basic")
        labels += ("before",) if args.before else ()
        print("case  " + "".join(f"{label:>20}" for label in labels))
        for case in ("200", "304", "gzip"):
            cells = []
            for label in labels:
                if (case, label) in results:
                    rps = statistics.median(results[(case, label)])
                    us = statistics.median(cpu[(case, label)])
                    cells.append(f"{rps:11.1f} ({us:4.0f} us)")
                else:
                    cells.append("-")
            print(f"{case:5} " + "".join(f"{cell:>20}" for cell in cells))
        print("\nratios: of medians | median of paired ratios (each round)")
        for name, top, bottom, cases, target in RATIOS:
            for case in cases:
                if (case, bottom) not in results:
                    continue
                tops, bottoms = results[(case, top)], results[(case, bottom)]
                paired = [t / b for t, b in zip(tops, bottoms, strict=True)]
                each = " ".join(f"{r:.2f}" for r in paired)
                of_medians = statistics.median(tops) / statistics.median(bottoms)
                verdict = ""
                if target is not None:
                    met = statistics.median(paired) >= target
                    verdict = f"  target >= {target}: {'met' if met else 'MISSED'}"
                print(
                    f"{name:22} {case:5} {of_medians:5.2f} | {statistics.median(paired):.2f}"
                    f" ({each}){verdict}"
                )
        for process in processes.values():
            stop(process)
        counted = counted_requests(db_url)
        print(
            f"\nreadership: ours counted {counted} requests; wrk and the checks completed {made} "
            f"({counted - made:+d}: requests still in flight when a wrk run ends are served, "
            "and counted, but not reported by wrk); the server without counting counts none"
        )
    finally:
        for process in processes.values():
            stop(process)
        if os.environ.get("BENCH_KEEP"):
            print("kept", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            if args.postgres:
                pg_schema(args.postgres, create=False)


if __name__ == "__main__":
    main()

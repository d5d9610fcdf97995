"""Serving benchmark: our app vs a minimal Flask app returning the same bytes from memory.

Run by hand (never as a test), from the repository root:

    .venv/bin/python bench/serve.py [--duration 10] [--connections 8] [--threads 2] [--rounds 3]

It publishes a ~150 KB RSS document with the real pipeline into a temporary SQLite database,
starts gunicorn twice with exactly the Procfile's `web:` settings (host 127.0.0.1, a free
port; the baseline only swaps the app), and runs wrk against both for a plain 200, a 304
(If-None-Match) and a gzip response (Accept-Encoding: gzip). Every wrk run is wrapped in
`flock /tmp/feeds-bench.lock` so it never overlaps another benchmark on this machine.
Installs wrk with apt-get when it is missing.
"""

from __future__ import annotations

import argparse
import gzip as gzip_module
import os
import random
import re
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
TARGET_BYTES = 150_000

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
        f'[[feed]]\nname = "{FEED}"\ntitle = "Bench"\nlocal = true\nlimit = {articles}\n',
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


def publish(folder: Path) -> tuple[Path, str]:
    """Publish the feed with the real pipeline; returns (config dir, database URL)."""
    sys.path.insert(0, str(ROOT))
    from feeds.config import load_config
    from feeds.pipeline import Pipeline
    from feeds.store import Store
    from feeds.types import Format

    articles = 60
    for _attempt in range(4):
        work = folder / f"site-{articles}"
        config_dir = write_site(work, articles)
        url = f"sqlite:///{work / 'feeds.db'}"
        store = Store(url)
        with Pipeline(load_config(config_dir), store) as pipeline:
            pipeline.sync_articles()
            pipeline.publish_all()
        document = store.get_document(FEED, Format.RSS)
        store.close()
        assert document is not None
        if abs(len(document.body) - TARGET_BYTES) <= TARGET_BYTES * 0.03:
            break
        articles = round(articles * TARGET_BYTES / len(document.body))
    docs = folder / "doc"
    docs.mkdir()
    (docs / "body").write_bytes(document.body)
    (docs / "gzip").write_bytes(document.gzip)
    (docs / "etag").write_text(document.etag)
    (docs / "content_type").write_text(document.content_type)
    print(
        f"stored document: {len(document.body)} bytes RSS ({articles} articles), "
        f"gzip {len(document.gzip)} bytes, etag {document.etag}"
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
    """The Procfile's web: command with host/port substituted (and the app, for the baseline)."""
    command = []
    for arg in procfile_web():
        arg = arg.replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1")
        if app is not None and arg == "feeds.web:create_app()":
            arg = app
        command.append(arg)
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    if command[0] == "gunicorn" and gunicorn.exists():
        command[0] = str(gunicorn)
    return command


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    print("$", " ".join(shlex.quote(a) for a in command))
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, headers: list[str], args: argparse.Namespace, pids: list[int] | None = None
) -> tuple[float, float]:
    """Requests/s, and server CPU microseconds per request (gunicorn master + workers)."""
    command = ["flock", LOCK, args.wrk, f"-t{args.threads}", f"-c{args.connections}"]
    command += [f"-d{args.duration}s"]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    before = cpu_seconds(pids) if pids else 0.0
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    used = cpu_seconds(pids) - before if pids else 0.0
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if match is None:
        raise SystemExit(out)
    if errors:
        print("   wrk:", errors.group(0))
    requests = int(count.group(1)) if count else 0
    return float(match.group(1)), used * 1e6 / max(requests, 1)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.wrk = ensure_wrk()

    folder = Path(tempfile.mkdtemp(prefix="feeds-bench-serve-"))
    processes = []
    try:
        config_dir, db_url = publish(folder)
        docs = folder / "doc"
        etag = (docs / "etag").read_text()
        body = (docs / "body").read_bytes()
        assert gzip_module.decompress((docs / "gzip").read_bytes()) == body

        env = dict(os.environ, FEEDS_CONFIG=str(config_dir), DATABASE_URL=db_url)
        env["BENCH_DOC_DIR"] = str(docs)
        env["PYTHONPATH"] = str(ROOT)
        ours_port, base_port = free_port(), free_port()
        ours = start(gunicorn_command(ours_port, None), env, folder / "ours.log")
        processes.append(ours)
        base = start(
            gunicorn_command(base_port, "bench.serve:baseline_app()"), env, folder / "base.log"
        )
        processes.append(base)
        servers = {
            "ours": f"http://127.0.0.1:{ours_port}/feeds/{FEED}.rss",
            "baseline": f"http://127.0.0.1:{base_port}/feeds/{FEED}.rss",
        }
        wait_ready(servers["ours"], ours)
        wait_ready(servers["baseline"], base)

        cases = {
            "200": ([], {}, 200, body),
            "304": ([f"If-None-Match: {etag}"], {"If-None-Match": etag}, 304, b""),
            "gzip": (["Accept-Encoding: gzip"], {"Accept-Encoding": "gzip"}, 200, None),
        }
        for url in servers.values():
            for _, headers, status, expected in cases.values():
                check(url, headers, status, expected)

        pids = {"ours": process_tree(ours.pid), "baseline": process_tree(base.pid)}
        results: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds, "
            f"each run under flock {LOCK} (serialized)"
        )
        for url in servers.values():  # warm-up: imports, caches, connections
            wrk_args = argparse.Namespace(**{**vars(args), "duration": 2})
            wrk(url, [], wrk_args)
            wrk(url, list(cases["304"][0]), wrk_args)
        for round_number in range(args.rounds):
            for case, (headers, *_rest) in cases.items():
                order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
                for name in order:
                    rps, us = wrk(servers[name], headers, args, pids[name])
                    results.setdefault((case, name), []).append(rps)
                    cpu.setdefault((case, name), []).append(us)
                    print(
                        f"  round {round_number + 1} {case:5} {name:8} {rps:10.1f} req/s"
                        f" {us:8.0f} us CPU/request"
                    )

        print(
            "\ncase   ours req/s  baseline req/s  ratio | server CPU us/request: ours  baseline"
            "  ratio (baseline/ours)   [medians of rounds] | paired ratio: median (each round)"
        )
        for case in cases:
            ours_rps = statistics.median(results[(case, "ours")])
            base_rps = statistics.median(results[(case, "baseline")])
            ours_us = statistics.median(cpu[(case, "ours")])
            base_us = statistics.median(cpu[(case, "baseline")])
            # Each round measures ours and the baseline back to back: the ratio within a round
            # is what the drift of a shared machine's speed disturbs least.
            paired = [
                o / b
                for o, b in zip(results[(case, "ours")], results[(case, "baseline")], strict=True)
            ]
            each = " ".join(f"{r:.2f}" for r in paired)
            print(
                f"{case:5} {ours_rps:11.1f} {base_rps:15.1f}  {ours_rps / base_rps:5.2f} |"
                f" {ours_us:27.0f} {base_us:9.0f}  {base_us / ours_us:5.2f}"
                f" | {statistics.median(paired):.2f} ({each})"
            )
    finally:
        for process in processes:
            stop(process)
        if os.environ.get("BENCH_KEEP"):
            print("kept", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Ingestion benchmark: `feeds update` against N loopback sources vs a plain feedparser loop.

    .venv/bin/python bench/ingest.py [--sources 1000 --items 100] [--concurrency 2,4,8,16]

What it does (see bench/README.md):

1. Starts a loopback HTTP server in its own process (`ingest.py serve`) that generates N
   realistic RSS 2.0 feeds (~150 KB with 100 items, different per source) and answers
   conditional GETs with 304 (ETag and Last-Modified). It listens on 127.0.0.1 only.
2. Baseline: a separate process running the plain sequential loop
   `feedparser.parse(httpx.get(url).content)` over every URL (default feedparser settings).
3. reader: lemon24/reader's `update_feeds` over the same URLs into an empty database of its
   own, in a separate process, with `workers` equal to our fetch concurrency (reader names no
   recommended value; its default is 1). Needs the `bench` extra (`pip install -e '.[bench]'`);
   skipped with a note when reader is not installed (or with `--skip-reader`).
4. Ours: writes a config directory (site.toml, sources.toml with N sources, feeds.toml with
   one feed over "*") and runs `feeds --config DIR --database sqlite:///TMP/feeds.db update`
   cold (empty database), then `update --force` with nothing changed (every source answers
   304; `update` alone would fetch nothing, since nothing is due).
5. Optionally the cold update again with several `[fetch] concurrency` values.

With `--rounds N`, the baseline, reader and the cold update run N times, alternately, and the
ratios are the medians of each round's.

Every measured command runs as `flock /tmp/feeds-bench.lock /usr/bin/time -v CMD`, so it never
overlaps another benchmark run that takes the same lock. Wall time is measured around the
command once the lock is held (GNU time's "Elapsed"); memory is GNU time's maximum resident
set size plus a /proc poller that tracks the main process, its largest child and the sum of
the whole process tree at any one moment.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOCK = "/tmp/feeds-bench.lock"
ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

# --------------------------------------------------------------------------- feed generation

_VOCAB = (
    "government minister said talks ceasefire border city reported officials agency region "
    "water power aid convoy protest election parliament economy inflation currency bank port "
    "hospital school refugees camp shelling village court ruling president council security "
    "forces statement spokesperson negotiations summit oil gas prices market workers strike "
    "drought harvest wheat bread fuel shortage electricity grid reconstruction donors funding "
    "investigation journalists press freedom rights detention release prisoners hostages "
    "families returned displaced thousands hundreds dozens early morning late night weekend "
    "capital northern southern eastern western coastal mountain desert river valley province"
)
WORDS = _VOCAB.split()
AUTHORS = (
    "Rana Haddad",
    "Omar Khalil",
    "Lina Saleh",
    "Karim Nasser",
    "Maya Aziz",
    "Samir Daher",
    "Nour Jaber",
    "Yusuf Mansour",
    "Hala Said",
    "Tariq Farah",
)
CATEGORIES = (
    "Politics",
    "Economy",
    "Humanitarian",
    "Energy",
    "Security",
    "Culture",
    "Environment",
    "Health",
    "Diplomacy",
    "Media",
)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sentence(rng: random.Random) -> str:
    s = _words(rng, rng.randint(6, 11))
    return s[0].upper() + s[1:] + "."


def make_feed(index: int, items: int, now: datetime) -> bytes:
    """One realistic RSS 2.0 feed; different (but deterministic) for every source."""
    rng = random.Random(index)
    host = f"outlet{index}.example"
    base = f"https://{host}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>Outlet {index} — {rng.choice(CATEGORIES)}</title>\n"
        f"<link>{base}/</link>\n"
        f'<atom:link href="{base}/rss.xml" rel="self" type="application/rss+xml"/>\n'
        f"<description>News from outlet {index}: {_sentence(rng)}</description>\n"
        "<language>en</language>\n"
        f"<ttl>{rng.choice((5, 10, 15, 30))}</ttl>\n"
    ]
    for n in range(items):
        published = now - timedelta(minutes=37 * n + rng.randint(0, 30), seconds=index)
        slug = "-".join(_words(rng, 5).split())
        link = f"{base}/news/{published:%Y/%m/%d}/{slug}-{index}-{n}"
        if rng.random() < 0.3:
            link += "?utm_source=rss&utm_medium=feed"
        title = _sentence(rng)[:-1]
        if rng.random() < 0.2:
            title += " &amp; more"
        img = f"{base}/images/{index}/{n}.jpg"
        paragraphs = "".join(
            f"<p>{' '.join(_sentence(rng) for _ in range(2))}</p>" for _ in range(rng.randint(2, 3))
        )
        content = (
            f'<figure><img src="{img}" alt="{_words(rng, 4)}" width="1200" height="800"/>'
            f"<figcaption>{_sentence(rng)}</figcaption></figure>"
            f'{paragraphs}<p>Read more <a href="/news/related-{n}">here</a>.</p>'
        )
        cats = "".join(
            f"<category>{c}</category>" for c in rng.sample(CATEGORIES, rng.randint(1, 3))
        )
        guid = (
            f'<guid isPermaLink="false">{host}:{index}:{n}</guid>'
            if rng.random() < 0.5
            else f'<guid isPermaLink="true">{link.split("?")[0]}</guid>'
        )
        parts.append(
            "<item>\n"
            f"<title>{title}</title>\n"
            f"<link>{link.replace('&', '&amp;')}</link>\n"
            f"{guid}\n"
            f"<pubDate>{email.utils.format_datetime(published)}</pubDate>\n"
            f"<dc:creator>{rng.choice(AUTHORS)}</dc:creator>\n"
            f"{cats}\n"
            f"<description>{_sentence(rng)} {_sentence(rng)}</description>\n"
            f"<content:encoded><![CDATA[{content}]]></content:encoded>\n"
            f'<media:content url="{img}" medium="image" type="image/jpeg" width="1200" '
            f'height="800"><media:credit>{rng.choice(AUTHORS)}/Agency</media:credit>'
            f"<media:description>{_sentence(rng)}</media:description></media:content>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


# --------------------------------------------------------------------------- server


def serve(sources: int, items: int) -> None:
    """The loopback server (its own process): prints "READY <port> <bytes>" once listening."""
    now = datetime.now(UTC).replace(microsecond=0)
    bodies = [make_feed(i, items, now) for i in range(sources)]
    etags = ['"' + hashlib.sha1(b).hexdigest() + '"' for b in bodies]
    last_modified = email.utils.format_datetime(now - timedelta(minutes=1), usegmt=True)
    pattern = re.compile(r"^/feeds/(\d+)\.xml$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            match = pattern.match(self.path)
            if not match or int(match.group(1)) >= sources:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            i = int(match.group(1))
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm == etags[i] or (inm is None and ims == last_modified):
                self.send_response(304)
                self.send_header("ETag", etags[i])
                self.send_header("Last-Modified", last_modified)
                self.end_headers()
                return
            body = bodies[i]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etags[i])
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    total = sum(len(b) for b in bodies)
    print(f"READY {server.server_address[1]} {total}", flush=True)
    server.serve_forever()


# --------------------------------------------------------------------------- baseline


def baseline(urls_file: str) -> None:
    """The plain sequential loop; prints {"seconds": ..., "entries": ...} as JSON."""
    import feedparser
    import httpx

    urls = Path(urls_file).read_text().split()
    start = time.perf_counter()
    entries = 0
    for url in urls:
        entries += len(feedparser.parse(httpx.get(url).content).entries)
    print(json.dumps({"seconds": time.perf_counter() - start, "entries": entries}), flush=True)


def reader_update(urls_file: str, db: str, workers: int) -> None:
    """lemon24/reader's update_feeds over every URL into an empty database; prints
    {"seconds": ..., "entries": ...} as JSON (the time of update_feeds alone)."""
    from reader import make_reader

    urls = Path(urls_file).read_text().split()
    with make_reader(db) as reader:
        for url in urls:
            reader.add_feed(url)
        start = time.perf_counter()
        reader.update_feeds(workers=workers)
        seconds = time.perf_counter() - start
        entries = reader.get_entry_counts().total
    print(json.dumps({"seconds": seconds, "entries": entries}), flush=True)


def reader_available() -> bool:
    found = subprocess.run(
        [sys.executable, "-c", "import reader"], capture_output=True, check=False
    )
    return found.returncode == 0


# --------------------------------------------------------------------------- measuring


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (forkserver children) counted once in a sum."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return _rss_kb(pid)


def _children_map() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        out.setdefault(ppid, []).append(int(name))
    return out


class TreePoller:
    """Polls the RSS of the measured command (the process under flock and GNU time) and its
    descendants: peak RSS of the main process and of its largest child, and the peak of the
    tree's summed PSS (so pages shared between forked children are not counted twice)."""

    def __init__(self, root: int, main_name: str) -> None:
        self.root = root
        self.main_name = main_name
        self.main_peak = self.child_peak = self.sum_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            kids = _children_map()
            tree: list[int] = []
            todo = list(kids.get(self.root, []))
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(kids.get(pid, []))
            # The measured process is the one GNU time started: flock -> time -> main.
            main = None
            for pid in tree:
                try:
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                if comm not in ("flock", "time") and main is None:
                    parent_ok = any(pid in kids.get(p, []) for p in [*tree, self.root])
                    if parent_ok:
                        main = pid
            if main is None:
                continue
            sub: list[int] = []
            todo = list(kids.get(main, []))
            while todo:
                pid = todo.pop()
                sub.append(pid)
                todo.extend(kids.get(pid, []))
            main_rss = _rss_kb(main)
            child_rss = [_rss_kb(p) for p in sub]
            self.main_peak = max(self.main_peak, main_rss)
            self.child_peak = max([self.child_peak, *child_rss])
            self.sum_peak = max(self.sum_peak, sum(_pss_kb(p) for p in [main, *sub]))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    """Run `flock LOCK /usr/bin/time -v CMD`; returns wall seconds, memory and output."""
    full = ["flock", LOCK, "/usr/bin/time", "-v", *cmd]
    proc = subprocess.Popen(
        full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    poller = TreePoller(proc.pid, Path(cmd[0]).name)
    out, err = proc.communicate()
    poller.stop()
    if proc.returncode != 0:
        sys.stderr.write(err[-4000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(full)}")
    elapsed = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err)
    maxrss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    assert elapsed and maxrss, err[-2000:]
    seconds = 0.0
    for part in elapsed.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return {
        "command": " ".join(full),
        "seconds": seconds,
        "time_maxrss_mb": int(maxrss.group(1)) / 1024,
        "main_peak_mb": poller.main_peak / 1024,
        "largest_child_peak_mb": poller.child_peak / 1024,
        "tree_peak_mb": poller.sum_peak / 1024,
        "stdout": out,
    }


# --------------------------------------------------------------------------- config


def write_config(
    directory: Path, urls: list[str], concurrency: int, per_host: int, spacing: float
) -> None:
    (directory / "articles").mkdir(parents=True, exist_ok=True)
    (directory / "site.toml").write_text(
        'title = "Bench"\nlink = "https://bench.example/"\nbase_url = "http://127.0.0.1:9"\n'
        'description = "Ingestion benchmark"\nlanguage = "en"\narticles = "articles"\n\n'
        "[fetch]\nallow_private_addresses = true\ndeadline = 60\n"
        f"concurrency = {concurrency}\nper_host = {per_host}\nhost_spacing = {spacing}\n"
    )
    sources = [
        f'[[source]]\nid = "s{i:04d}"\ntitle = "Source {i}"\nurl = "{url}"\n'
        f'tags = ["bench"]\ninterval = "15m"\n'
        for i, url in enumerate(urls)
    ]
    (directory / "sources.toml").write_text("\n".join(sources))
    (directory / "feeds.toml").write_text(
        '[[feed]]\nname = "all"\ntitle = "All"\ndescription = "Everything"\n'
        'local = false\nsources = ["*"]\nlimit = 100\n'
    )


def update_cmd(config: Path, db: Path) -> list[str]:
    return [str(VENV_BIN / "feeds"), "--config", str(config), "--database", f"sqlite:///{db}"]


def summarize(stdout: str) -> str:
    """Count the per-source outcome words in the update's summary."""
    counts: dict[str, int] = {}
    for line in stdout.splitlines():
        for word in ("ok", "not_modified", "error"):
            if re.search(rf"\b{word}\b", line):
                counts[word] = counts.get(word, 0) + 1
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "?"


def machine() -> dict[str, str]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "cpu": cpu,
        "free": free,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--concurrency", default="8", help="fetch concurrency of the main runs")
    parser.add_argument(
        "--sweep", default="2,4,8,16", help="concurrency values for extra cold runs ('' = none)"
    )
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--host-spacing", type=float, default=0.0)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-reader", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="baseline and cold update alternately this many times; the ratio is the median of "
        "each round's (the machine's speed drifts: each pair is measured side by side)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", str(args.sources), str(args.items)],
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[str, object] = {"machine": machine(), "args": vars(args)}
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise SystemExit("the loopback server did not start")
        port, total = int(ready[1]), int(ready[2])
        urls = [f"http://127.0.0.1:{port}/feeds/{i}.xml" for i in range(args.sources)]
        urls_file = tmp / "urls.txt"
        urls_file.write_text("\n".join(urls))
        print(
            f"server: {args.sources} feeds x {args.items} items, "
            f"{total / args.sources / 1024:.0f} KB average, {total / 2**20:.0f} MB in all",
            flush=True,
        )
        results["feed_kb"] = total / args.sources / 1024

        def run_baseline() -> dict[str, object]:
            run = measured([sys.executable, __file__, "baseline", str(urls_file)])
            loop = json.loads(str(run["stdout"]).strip().splitlines()[-1])
            run["loop_seconds"] = loop["seconds"]
            run["entries"] = loop["entries"]
            run.pop("stdout", None)
            print(
                f"baseline: {loop['seconds']:.1f} s loop ({run['seconds']:.1f} s process), "
                f"{loop['entries']} entries, {args.sources / loop['seconds']:.1f} sources/s",
                flush=True,
            )
            return run

        if not args.skip_baseline:
            results["baseline"] = run_baseline()

        with_reader = not args.skip_reader and reader_available()
        if not args.skip_reader and not with_reader:
            print("reader: not installed (pip install -e '.[bench]'); skipped", flush=True)

        def run_reader() -> dict[str, object]:
            db = tmp / "reader.sqlite"
            db.unlink(missing_ok=True)
            workers = int(args.concurrency)
            run = measured(
                [sys.executable, __file__, "reader", str(urls_file), str(db), str(workers)]
            )
            loop = json.loads(str(run["stdout"]).strip().splitlines()[-1])
            run["update_seconds"] = loop["seconds"]
            run["entries"] = loop["entries"]
            run.pop("stdout", None)
            print(
                f"reader (workers={workers}): {loop['seconds']:.1f} s update_feeds "
                f"({run['seconds']:.1f} s process), {loop['entries']} entries, "
                f"{args.sources / loop['seconds']:.1f} sources/s, "
                f"peak tree {run['tree_peak_mb']:.0f} MB",
                flush=True,
            )
            db.unlink(missing_ok=True)
            return run

        if with_reader:
            results["reader"] = run_reader()

        def cold_and_warm(concurrency: int, warm: bool) -> dict[str, object]:
            config = tmp / f"config-c{concurrency}"
            db = tmp / f"feeds-c{concurrency}.db"
            write_config(config, urls, concurrency, args.per_host, args.host_spacing)
            cold = measured([*update_cmd(config, db), "update"])
            cold["summary"] = summarize(str(cold["stdout"]))
            out: dict[str, object] = {"cold": cold}
            print(
                f"c={concurrency} cold: {cold['seconds']:.1f} s "
                f"({args.sources / float(cold['seconds']):.0f} sources/s; {cold['summary']}), "
                f"peak main {cold['main_peak_mb']:.0f} MB, "
                f"largest child {cold['largest_child_peak_mb']:.0f} MB, "
                f"tree {cold['tree_peak_mb']:.0f} MB",
                flush=True,
            )
            if warm:
                second = measured([*update_cmd(config, db), "update", "--force"])
                second["summary"] = summarize(str(second["stdout"]))
                out["second"] = second
                print(
                    f"c={concurrency} second: {second['seconds']:.2f} s "
                    f"({args.sources / float(second['seconds']):.0f} sources/s; "
                    f"{second['summary']}), peak tree {second['tree_peak_mb']:.0f} MB",
                    flush=True,
                )
            for run in out.values():
                assert isinstance(run, dict)
                run.pop("stdout", None)
            shutil.rmtree(config)
            db.unlink()
            return out

        main_c = int(args.concurrency)
        results["ours"] = cold_and_warm(main_c, warm=True)
        rounds: list[dict[str, float]] = []
        if "baseline" in results or "reader" in results:
            first = {"cold": float(results["ours"]["cold"]["seconds"])}  # type: ignore[index]
            if "baseline" in results:
                first["baseline"] = float(results["baseline"]["loop_seconds"])  # type: ignore[index]
            if "reader" in results:
                first["reader"] = float(results["reader"]["update_seconds"])  # type: ignore[index]
            rounds.append(first)
            for _ in range(1, args.rounds):
                one: dict[str, float] = {}
                if "baseline" in results:
                    one["baseline"] = float(run_baseline()["loop_seconds"])  # type: ignore[arg-type]
                if "reader" in results:
                    one["reader"] = float(run_reader()["update_seconds"])  # type: ignore[arg-type]
                one["cold"] = float(cold_and_warm(main_c, warm=False)["cold"]["seconds"])  # type: ignore[index]
                rounds.append(one)
        results["rounds"] = rounds
        sweep = [int(c) for c in args.sweep.split(",") if c.strip()]
        results["sweep"] = {str(c): cold_and_warm(c, warm=False)["cold"] for c in sweep}

        for other in ("baseline", "reader"):
            if rounds and other in rounds[0]:
                ratios = [r[other] / r["cold"] for r in rounds]
                results[f"ratios_{other}"] = ratios
                each = ", ".join(f"{r:.2f}x" for r in ratios)
                print(
                    f"ratio {other}/cold: median {statistics.median(ratios):.2f}x (rounds: {each})",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "baseline":
        baseline(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "reader":
        reader_update(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()

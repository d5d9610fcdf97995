"""Rebuild benchmark: Pipeline.publish() of a 50-item merged feed over 1,000,000 stored entries.

Run by hand (never as a test), from the repository root:

    .venv/bin/python bench/rebuild.py [--runs 50] [--postgres [--paired]] [--profile FEED]

The SQLite database (1,000,000 entries over 200 sources, 30 local articles) is built once,
with bulk inserts into the Store's own schema, and cached under /tmp/feeds-bench-rebuild/;
later runs reuse it. With --postgres the same rows are loaded (COPY) into the schema
`bench_rebuild` of the PostgreSQL at 127.0.0.1:5432/test, timed, and the schema is dropped.

Feeds timed (limit 50, local articles merged in):
  half  sources = ["tag:half"] (100 of the 200 sources)
  all   sources = ["*"], max_age 60 days, exclude regexes (like the shipped "everything")

For each feed: the first publish after its stored documents and archive membership were
removed (cold), then --runs publishes with unchanged inputs (median, p95, max) and --runs
publishes each preceded by one new entry in one of its sources (what a refresh causes).
With --paired, then for each feed --runs rounds of one new entry in both databases, each
published at once, the order of the databases alternating: medians and the median of the
rounds' PostgreSQL / SQLite ratios, which the machine's drift between the phases above
(minutes apart) does not move.
Each phase runs under `flock /tmp/feeds-bench.lock` (the benchmark re-executes itself under
the lock), so it never overlaps another benchmark on this machine.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import itertools
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feeds.config import load_config  # noqa: E402
from feeds.pipeline import Pipeline  # noqa: E402
from feeds.store import Store, codec  # noqa: E402
from feeds.store.schema import entries, feed_items  # noqa: E402
from feeds.types import Config  # noqa: E402

LOCK = "/tmp/feeds-bench.lock"
CACHE = Path("/tmp/feeds-bench-rebuild")
SOURCES = 200
PER_SOURCE = 5000  # 200 x 5000 = 1,000,000 entries
ARTICLES = 30
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=365)
VERSION = "v1"  # change when the generated data changes
PG = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_rebuild"

# publish() never fetches: no HTTP client is created for the benchmark.
NO_FETCHER: Any = object()
NEW_IDS = itertools.count()
# The benchmark's clock, shared by every feed and database and only moving forward: each new
# entry is the newest of all, never tied with (or older than) one added for an earlier feed.
CLOCK = [NOW]

WORDS = tuple(
    " ".join(
        (
            "beirut amman baghdad damascus gaza ramallah sanaa cairo ministry convoy border aid",
            "water electricity fuel shortage parliament vote budget court protest negotiations",
            "ceasefire hospital school displaced farmers harvest drought reconstruction port",
            "silos investigation families victims vigil cabinet engineers report memorial storm",
            "refugees crossing official",
        )
    ).split(" ")
)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_config(folder: Path) -> Path:
    config = folder / "config"
    articles = config / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    (config / "site.toml").write_text(
        'title = "Bench Outlet"\nlink = "https://outlet.example/"\n'
        'base_url = "https://feeds.outlet.example"\ndescription = "Benchmark site"\n'
        'language = "en"\narticles = "articles"\n',
        encoding="utf-8",
    )
    lines = []
    for n in range(SOURCES):
        tags = '["half", "wire"]' if n % 2 == 0 else '["other"]'
        lines.append(
            f'[[source]]\nid = "src-{n:03d}"\nurl = "https://upstream{n}.example/feed.xml"\n'
            f'title = "Upstream {n}"\ntags = {tags}\ninterval = "15m"\n'
        )
    (config / "sources.toml").write_text("\n".join(lines), encoding="utf-8")
    (config / "feeds.toml").write_text(
        '[[feed]]\nname = "half"\ntitle = "Half"\nlocal = true\nsources = ["tag:half"]\n'
        "limit = 50\n\n"
        '[[feed]]\nname = "all"\ntitle = "All"\nlocal = true\nsources = ["*"]\nlimit = 50\n'
        'max_age = "60d"\n'
        "exclude = ['\\bpodcast\\b', '\\bquiz\\b', '^(watch|video):']\n",
        encoding="utf-8",
    )
    rng = random.Random(7)
    for n in range(ARTICLES):
        date = NOW - timedelta(hours=7 * n + 3)
        body = "\n\n".join(words(rng, 80) + "." for _ in range(5))
        (articles / f"story-{n:03d}.md").write_text(
            "---\n"
            f'title: "Our story {n}: {words(rng, 6)}"\n'
            f"date: {date.isoformat()}\n"
            'author: "Rania Abou-Zeid"\n'
            f"tags: [lebanon, t{n % 5}]\n"
            "image:\n"
            f"  url: https://outlet.example/media/{n}.jpg\n"
            '  caption: "At dawn."\n  credit: "Photo: Outlet"\n  width: 1600\n  height: 1067\n'
            "---\n" + body + "\n",
            encoding="utf-8",
        )
    return config


def entry_row(rng: random.Random, source: int, n: int) -> dict[str, object]:
    published = NOW - timedelta(seconds=rng.randrange(int(SPAN.total_seconds())))
    title = words(rng, rng.randint(6, 12)).capitalize()
    if n % 97 == 0:
        title = "Podcast: " + title  # some are excluded by the "all" feed's regexes
    summary = f"<p>{words(rng, 35)}.</p>"
    content = "".join(f"<p>{words(rng, 45)}.</p>" for _ in range(4))
    # A third of the entries have an upstream URL as id, the rest a guid (tag: ids minted).
    link = f"https://upstream{source}.example/news/{n}"
    entry_id = link if n % 3 == 0 else f"guid-{source}-{n}"
    data = {
        "authors": [f"Reporter {n % 40}"],
        "tags": [WORDS[n % len(WORDS)], WORDS[(n * 7) % len(WORDS)]],
        "summary": summary,
        "content": content,
        "image": {
            "url": f"https://upstream{source}.example/img/{n}.jpg",
            "caption": "",
            "credit": "",
            "width": None,
            "height": None,
            "type": "",
        }
        if n % 2 == 0
        else None,
        "enclosures": [],
    }
    text = codec.dumps(data)
    return {
        "source_id": f"src-{source:03d}",
        "id": entry_id,
        "title": title,
        "link": link,
        "published": published,
        "updated": published,
        "first_seen": published,
        "last_seen": NOW,
        "content_hash": hashlib.sha256((title + text).encode()).hexdigest(),
        "data": text,
    }


def build_sqlite(path: Path, config: Config) -> None:
    print(f"building {path} ({SOURCES * PER_SOURCE:,} entries) ...", flush=True)
    started = time.perf_counter()
    tmp = path.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    store = Store(f"sqlite:///{tmp}")
    # The pipeline creates the sources rows and stores the local articles.
    with Pipeline(config, store, clock=lambda: NOW, fetcher=NO_FETCHER) as pipeline:
        pipeline.sync_articles()
    rng = random.Random(42)
    with store.engine.connect() as conn:
        conn.execution_options(feeds_write=True)
        for s in range(SOURCES):
            with conn.begin():
                conn.execute(entries.insert(), [entry_row(rng, s, n) for n in range(PER_SOURCE)])
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    store.close()
    tmp.rename(path)
    print(f"built in {time.perf_counter() - started:.0f} s, {path.stat().st_size / 1e6:.0f} MB")


def load_postgres(url: str, config: Config) -> Store:
    print(f"loading {SOURCES * PER_SOURCE:,} entries into PostgreSQL schema {PG_SCHEMA} ...")
    started = time.perf_counter()
    admin = sa.create_engine(Store(url, migrate=False).url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {PG_SCHEMA}")
    admin.dispose()
    store = Store(f"{url}?options=-csearch_path%3D{PG_SCHEMA}")
    with Pipeline(config, store, clock=lambda: NOW, fetcher=NO_FETCHER) as pipeline:
        pipeline.sync_articles()
    # The columns entry_row() gives; the others (link_shared) take their defaults.
    columns = [c.name for c in entries.columns if c.server_default is None]
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        rng = random.Random(42)
        for s in range(SOURCES):
            with cursor.copy(f"COPY entries ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for n in range(PER_SOURCE):
                    row = entry_row(rng, s, n)
                    for key in ("published", "updated", "first_seen", "last_seen"):
                        row[key] = row[key].replace(tzinfo=None)  # type: ignore[attr-defined]
                    copy.write_row([row[c] for c in columns])
        raw.commit()
        cursor.execute("ANALYZE entries")
        raw.commit()
    finally:
        raw.close()
    print(f"loaded in {time.perf_counter() - started:.0f} s")
    return store


def drop_postgres(url: str) -> None:
    engine = sa.create_engine(Store(url, migrate=False).url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    engine.dispose()


def forget(store: Store, feed: str) -> None:
    """Remove a feed's stored documents and archive membership (a cold first publish)."""
    from feeds.store.schema import documents

    with store.engine.connect() as conn:
        conn.execution_options(feeds_write=True)
        with conn.begin():
            conn.execute(documents.delete().where(documents.c.feed == feed))  # every page
            conn.execute(feed_items.delete().where(feed_items.c.feed == feed))


def add_entry(store: Store, source_id: str, n: int, now: datetime) -> None:
    """One new entry, as a refresh would store it (newest of its source)."""
    rng = random.Random(n)
    row = entry_row(rng, int(source_id[4:]), 10_000_000 + n)
    # Never one the "all" feed's filters exclude: every new entry must change the feed (it
    # is also the newest of all: see CLOCK).
    title = str(row["title"]).removeprefix("Podcast: ")
    row.update(published=now, updated=now, first_seen=now, last_seen=now, title=title)
    with store.engine.connect() as conn:
        conn.execution_options(feeds_write=True)
        with conn.begin():
            conn.execute(entries.insert(), [row])


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return (
        f"median {statistics.median(values) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
        f"max {values[-1] * 1000:6.1f} ms"
    )


def time_feed(store: Store, config: Config, name: str, runs: int) -> dict[str, object]:
    spec = config.feed(name)
    assert spec is not None
    clock_now = CLOCK
    pipeline = Pipeline(config, store, clock=lambda: clock_now[0], fetcher=NO_FETCHER)
    articles = store.articles()
    forget(store, name)
    started = time.perf_counter()
    changed = pipeline.publish(spec)
    first = time.perf_counter() - started
    assert changed, "the cold publish stored nothing"
    unchanged = []
    for _ in range(runs):
        started = time.perf_counter()
        changed = pipeline.publish(spec)
        unchanged.append(time.perf_counter() - started)
        assert not changed
    articles_given = []
    for _ in range(runs):
        started = time.perf_counter()
        pipeline.publish(spec, articles)
        articles_given.append(time.perf_counter() - started)
    source_ids = config.source_ids_for(spec)
    new_entry = []
    for n in range(runs):
        clock_now[0] = clock_now[0] + timedelta(minutes=1)
        add_entry(store, source_ids[n % len(source_ids)], next(NEW_IDS), clock_now[0])
        started = time.perf_counter()
        changed = pipeline.publish(spec)
        new_entry.append(time.perf_counter() - started)
        assert changed
    pipeline.close()
    print(f"  {name}: {len(source_ids)} sources, first (cold) publish {first * 1000:.1f} ms")
    print(f"    unchanged inputs     ({runs} runs): {ms(unchanged)}")
    print(f"    articles passed in   ({runs} runs): {ms(articles_given)}")
    print(f"    after one new entry  ({runs} runs): {ms(new_entry)}")
    return {"first": first, "unchanged": unchanged, "new": new_entry}


def time_paired(stores: dict[str, Store], config: Config, name: str, runs: int) -> None:
    """Both databases in turn after the same new entry, in an order that alternates from
    round to round: their ratio without the machine's drift between the phases above."""
    spec = config.feed(name)
    assert spec is not None
    pipelines = {
        db: Pipeline(config, store, clock=lambda: CLOCK[0], fetcher=NO_FETCHER)
        for db, store in stores.items()
    }
    for pipeline in pipelines.values():
        pipeline.publish(spec)  # what the phases above left; the renderer's memory
    source_ids = config.source_ids_for(spec)
    times: dict[str, list[float]] = {db: [] for db in stores}
    for n in range(runs):
        CLOCK[0] = CLOCK[0] + timedelta(minutes=1)
        new_id = next(NEW_IDS)
        order = list(stores) if n % 2 == 0 else list(reversed(stores))
        for db in order:
            add_entry(stores[db], source_ids[n % len(source_ids)], new_id, CLOCK[0])
            started = time.perf_counter()
            changed = pipelines[db].publish(spec)
            times[db].append(time.perf_counter() - started)
            assert changed
    for pipeline in pipelines.values():
        pipeline.close()
    sqlite, pg = times["SQLite"], times["PostgreSQL"]
    ratios = [p / s for s, p in zip(sqlite, pg, strict=True)]
    print(f"  {name}, both databases in turn after one new entry ({runs} rounds):")
    print(f"    SQLite      {ms(sqlite)}")
    print(f"    PostgreSQL  {ms(pg)}")
    print(
        f"    PostgreSQL / SQLite: {statistics.median(pg) / statistics.median(sqlite):.2f} "
        f"(medians), {statistics.median(ratios):.2f} (median of the rounds' ratios)"
    )


def cleanup_new_entries(store: Store) -> None:
    with store.engine.connect() as conn:
        conn.execution_options(feeds_write=True)
        with conn.begin():
            conn.execute(entries.delete().where(entries.c.id.like("%/news/1000____")))
            conn.execute(entries.delete().where(entries.c.id.like("guid-%-1000____")))


def profile(store: Store, config: Config, name: str) -> None:
    spec = config.feed(name)
    assert spec is not None
    pipeline = Pipeline(config, store, clock=lambda: NOW, fetcher=NO_FETCHER)
    pipeline.publish(spec)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        pipeline.publish(spec)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--postgres-url", default=os.environ.get("FEEDS_TEST_POSTGRES", PG))
    parser.add_argument(
        "--paired",
        action="store_true",
        help="with --postgres: then both databases in turn after each new entry",
    )
    parser.add_argument("--profile", metavar="FEED")
    parser.add_argument("--locked", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    config_dir = write_config(CACHE / VERSION)
    config = load_config(config_dir)
    db = CACHE / f"entries-{SOURCES * PER_SOURCE}-{VERSION}.sqlite"
    if not db.exists():
        build_sqlite(db, config)  # not timed: no lock needed
    if not args.locked:
        # Re-run the timed part under the shared benchmark lock.
        command = ["flock", LOCK, sys.executable, *sys.argv, "--locked"]
        raise SystemExit(subprocess.call(command))

    print(f"date {datetime.now(UTC).isoformat(timespec='seconds')}, database {db}")
    store = Store(f"sqlite:///{db}")
    cleanup_new_entries(store)
    print(f"SQLite: {store.count_entries():,} entries")
    if args.profile:
        profile(store, config, args.profile)
        return
    for name in ("half", "all"):
        time_feed(store, config, name, args.runs)

    if args.postgres:
        pg = load_postgres(args.postgres_url, config)
        try:
            print(f"PostgreSQL: {pg.count_entries():,} entries")
            for name in ("half", "all"):
                time_feed(pg, config, name, args.runs)
            if args.paired:
                for name in ("half", "all"):
                    time_paired({"SQLite": store, "PostgreSQL": pg}, config, name, args.runs)
        finally:
            pg.close()
            drop_postgres(args.postgres_url)
            print(f"dropped schema {PG_SCHEMA}")
    cleanup_new_entries(store)
    store.close()


if __name__ == "__main__":
    main()

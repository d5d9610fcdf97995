"""Crash test: real `feeds update` processes killed at random points, on SQLite and PostgreSQL
at once, and what each kill leaves behind (issue 13).

Each database runs ROUNDS pairs of rounds, each pair on a fresh database. The first round of
a pair is "cold": `feeds update` on an empty database (which it migrates) with the upstreams
and articles at version 2. The second is "warm": on the database the first left, version 3
(every source has three new entries and a corrected title; an article is changed, one added
and one deleted), `feeds update --force`. Eighteen loopback sources (enough for the parse
workers: a fork server, its workers, the resource tracker), four of them slow to answer and
four large, and local articles make six feeds (one also published for a partner, in full)
with archive pages of ten items.

A round starts the command as a user would (`python -m feeds.cli`, its own process group)
and kills it with SIGKILL (one in four with SIGTERM) after a delay in [0, d], d being how
long the same command took uncrashed on this database (measured first, by the reference
run). The delays are drawn from a seeded RNG and stratified: [0, d] is cut into SLICES equal
slices and each kind of round kills once in each slice, on one database or the other, so
every run kills early (imports, migrations), mid-fetch and mid-parse, and late (publishing,
archive pages, the partner's variant). After the kill:

- no process of the update outlives it by more than GONE_WITHIN seconds (every process of
  its process group, and every descendant seen while it ran, by pid and start time);
- the database is as its write transactions leave it (``consistency_problems``): the schema
  is at head, or absent with no table at all; a source's parsed-body hash and its entries are
  stored together (a hash without its entries would lose them for good: the same body is
  never parsed again); no entry without its source; the stored articles are all of one
  version; each variant of a feed's current documents exists in every format or in none,
  valid, with the same item ids in the same order, each of them recorded for the feed's
  archive (but an article deleted by an article sync the feed's next publish has not
  followed yet), and the web app serves those bytes to the public and to the partner; the
  archive pages are numbered 1..n over contiguous item ranges, exist in every format with the
  same ids, and hold exactly the items recorded in their range (more only while marked stale,
  to be written again); the current documents link to existing pages only;
- a read command (`feeds sources`) works; the killed command run again exits 0, publishes
  every feed, leaves the database consistent with no stale page nor failing source, and the
  same item ids in every document and archive page as the reference run (never killed) of
  the same inputs.

The seed is printed, and named in every failure: ``FEEDS_CRASH_SEED=N`` replays its delays
and signals (where they land depends on the machine's speed too). Every kill is printed with
where it landed, told from what was stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from feeds.cli import main
from feeds.config import load_config
from feeds.ids import iri
from feeds.store import HEAD_REVISION, Store, engine_url
from feeds.types import Config, Format
from feeds.web import create_app, state
from tests.conftest import postgres_schema
from tests.sites import source_toml, write_site
from tests.upstream import Upstream
from tests.validators import item_ids, validate

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)"
)

# Pairs of rounds (cold, warm) per database: 2 keep the test within a minute on two cores
# busy with both databases; FEEDS_CRASH_ROUNDS=N kills more (a soak run).
ROUNDS = int(os.environ.get("FEEDS_CRASH_ROUNDS") or 2)
SLICES = 2 * ROUNDS  # each kind of round kills once in each slice of [0, d], on either database
SIGTERM_SHARE = 0.25
GONE_WITHIN = 5.0  # seconds for the update's processes to end after it is killed
ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS_TOML = """
[[feed]]
name = "all"
title = "All"
local = true
sources = ["*"]
limit = 150

[[feed]]
name = "wire"
title = "Wire"
sources = ["tag:wire"]
limit = 80

[[feed]]
name = "agency"
title = "Agencies"
sources = ["tag:agency"]
limit = 80

[[feed]]
name = "big"
title = "Big"
sources = ["tag:big"]
limit = 120
content = "summary"

[[feed]]
name = "recent"
title = "Recent"
local = true
sources = ["*"]
limit = 100
content = "summary"

[[feed]]
name = "ours"
title = "Ours"
local = true
limit = 20
"""
# A partner reads "big" in full: that feed is also published as the variant "full".
PARTNER_KEY = "crash-test-partner-key"
ACCESS_TOML = f"""
[[partner]]
id = "flip"
name = "Flip"
feeds = ["big"]
content = "full"
key_sha256 = "{hashlib.sha256(PARTNER_KEY.encode()).hexdigest()}"
"""
BASE_URL = "https://feeds.outlet.example"  # the base_url of tests/sites.py
FEED_NAMES = ("all", "wire", "agency", "big", "recent", "ours")
VARIANTS = {"big": ("", "full")}  # the variants of each feed ("" only, if not named)
FAST, BIG, SLOW = 10, 4, 4  # sources of each kind: 18 in all, enough for the parse workers
SLOW_DELAYS = (0.25, 0.5, 0.75, 1.0)  # seconds before each slow source answers


# --------------------------------------------------------------------------- the inputs


def rss_body(source: str, count: int, version: int, base: datetime, padding: int) -> bytes:
    """A source's feed at `version`: version 3 adds three entries and corrects a title."""
    total = count + (3 if version >= 3 else 0)
    items = []
    for n in range(total):
        title = f"{source} story {n}" + (" (corrected)" if version >= 3 and n == 1 else "")
        when = base + timedelta(minutes=7 * n + len(source))
        text = f"<p>{title}: " + "lorem ipsum dolor sit amet " * padding + "</p>"
        items.append(
            f"<item><guid isPermaLink='false'>{source}-{n}</guid><title>{title}</title>"
            f"<link>https://{source}.example/{n}</link><description><![CDATA[{text}]]>"
            f"</description><pubDate>{when:%a, %d %b %Y %H:%M:%S} GMT</pubDate></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{source}</title><link>https://{source}.example/</link>"
        f"<description>d</description>{''.join(items)}</channel></rss>"
    ).encode()


def article(slug: str, title: str, when: datetime) -> str:
    return (
        f'---\ntitle: "{title}"\ndate: {when:%Y-%m-%dT%H:%M:%S}+00:00\nauthor: "Desk"\n'
        f'summary: "About {slug}."\ntags: [gaza]\n---\nThe story of {slug}, told here.\n'
    )


@dataclass
class Inputs:
    """One database's config directory and its upstream routes, at version 2 or 3."""

    root: Path
    upstream: Upstream
    prefix: str
    base: datetime
    config: Path = field(init=False)

    def __post_init__(self) -> None:
        sources = ""
        for kind, count in (("fast", FAST), ("big", BIG), ("slow", SLOW)):
            for n in range(count):
                tag = "big" if kind == "big" else ("wire" if n % 2 == 0 else "agency")
                url = self.upstream.url(f"/{self.prefix}/{kind}{n}.xml")
                sources += source_toml(f"{kind}{n}", url, tags=[tag])
        self.config = write_site(
            self.root,
            self.upstream,
            sources=sources,
            feeds=FEEDS_TOML,
            site_extra="archive_page_size = 10",
            deadline=10,
        )
        (self.config / "access.toml").write_text(ACCESS_TOML, encoding="utf-8")
        site = self.config / "site.toml"  # every source at once, though all on one host
        site.write_text(site.read_text().replace("per_host = 4", "per_host = 8"))

    def set_version(self, version: int) -> None:
        for n in range(FAST):
            self.route(f"fast{n}", rss_body(f"fast{n}", 15, version, self.base, 4))
        for n in range(BIG):
            self.route(f"big{n}", rss_body(f"big{n}", 150, version, self.base, 12))
        for n, delay in enumerate(SLOW_DELAYS):
            self.route(f"slow{n}", rss_body(f"slow{n}", 15, version, self.base, 4), delay)
        articles = self.config / "articles"
        for path in articles.glob("local*.md"):
            path.unlink()
        for slug, title in self.articles(version).items():
            if slug.startswith("local"):
                when = self.base + timedelta(hours=18 + int(slug[-1]))  # the newest
                (articles / f"{slug}.md").write_text(article(slug, title, when), encoding="utf-8")

    def route(self, name: str, body: bytes, delay: float = 0.0) -> None:
        headers = {"Content-Type": "application/rss+xml"}
        self.upstream.set(f"/{self.prefix}/{name}.xml", body, headers=headers, delay=delay)

    @staticmethod
    def articles(version: int) -> dict[str, str]:
        """{slug: title} of the generated local articles at `version` (the fixture's two
        stay as they are)."""
        titles = {f"local{n}": f"Local story {n}" for n in range(4)}
        if version >= 3:
            titles["local0"] = "Local story 0, corrected"
            titles["local4"] = "Local story 4"
            del titles["local3"]
        return titles


# --------------------------------------------------------------------------- processes


def process_table() -> dict[int, tuple[str, int, int, int]]:
    """{pid: (state, parent pid, process group, start time)} of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (fields[0], int(fields[1]), int(fields[2]), int(fields[19]))
    return table


def family(root: int) -> set[tuple[int, int]]:
    """(pid, start time) of `root`'s descendants and of its process group (it leads one)."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found = {pid for pid, (_, _, group, _) in table.items() if group == root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return {(pid, table[pid][3]) for pid in found if pid in table and pid != root}


def survivors(root: int, seen: set[tuple[int, int]]) -> list[str]:
    """The processes of `root` (ended) still alive: in its group, or seen as its family."""
    left = []
    for pid, (status, _, group, start) in process_table().items():
        if status != "Z" and (group == root or (pid, start) in seen):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()[:100].replace(b"\0", b" ")
            except OSError:
                continue
            left.append(f"{pid}: {command.decode(errors='replace')}")
    return left


def wait_gone(root: int, seen: set[tuple[int, int]]) -> list[str]:
    """The processes of `root` (ended) left after GONE_WITHIN seconds; they are killed then,
    so that a failing round leaves nothing behind either."""
    deadline = time.monotonic() + GONE_WITHIN
    while (left := survivors(root, seen)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for line in left:
        with contextlib.suppress(OSError):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
    return left


def feeds_command(config: Path, db: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "feeds.cli", "--config", str(config), "--database", db, *args]


def run_feeds(config: Path, db: str, *args: str) -> tuple[int, str, float, list[str]]:
    """Run a `feeds` command to its end: exit status, output, seconds, survivors."""
    started = time.monotonic()
    process = subprocess.Popen(
        feeds_command(config, db, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output, _ = process.communicate(timeout=120)
    took = time.monotonic() - started
    return process.returncode, output.decode(errors="replace"), took, wait_gone(process.pid, set())


@dataclass
class Kill:
    """What became of one killed update."""

    delay: float
    signal: signal.Signals
    ended_first: bool  # the update was over before the delay ran out
    seen: int  # processes of its own seen while it ran
    survivors: list[str]
    output: str


def run_and_kill(config: Path, db: str, args: list[str], delay: float, how: signal.Signals) -> Kill:
    process = subprocess.Popen(
        feeds_command(config, db, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: every process it starts is in it
    )
    seen: set[tuple[int, int]] = set()
    try:
        deadline = time.monotonic() + delay
        while process.poll() is None and time.monotonic() < deadline:
            seen |= family(process.pid)
            time.sleep(min(0.03, max(0.0, deadline - time.monotonic())))
        ended_first = process.poll() is not None
        if not ended_first:
            seen |= family(process.pid)
            process.send_signal(how)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left = wait_gone(process.pid, seen)
    return Kill(delay, how, ended_first, len(seen), left, output.decode(errors="replace"))


# --------------------------------------------------------------------------- the database

Snapshot = dict[str, list[str]]  # "feed.fmt", "feed+variant.fmt", "feed/archive/N.fmt" -> ids


def ids_of(bodies: dict[Format, bytes]) -> dict[Format, list[str]]:
    rss, atom, json = item_ids(bodies[Format.RSS], bodies[Format.ATOM], bodies[Format.JSON])
    return {Format.RSS: rss, Format.ATOM: atom, Format.JSON: json}


def documents(store: Store, feed: str, page: int = 0, variant: str = "") -> dict[Format, bytes]:
    found = {fmt: store.get_document(feed, fmt, page, variant) for fmt in Format}
    return {fmt: d.body for fmt, d in found.items() if d is not None}


def current(feed: str) -> list[tuple[str, str]]:
    """(variant, name) of each current document set of `feed`: "big", "big+full"."""
    return [(v, f"{feed}+{v}" if v else feed) for v in VARIANTS.get(feed, ("",))]


def snapshot(store: Store) -> Snapshot:
    """The item ids of every format of every feed's current documents and archive pages."""
    found: Snapshot = {}
    for feed in FEED_NAMES:
        sets = [(name, documents(store, feed, 0, variant)) for variant, name in current(feed)]
        for page in store.archive_pages(feed):
            sets.append((f"{feed}/archive/{page.number}", documents(store, feed, page.number)))
        for name, bodies in sets:
            if len(bodies) == len(Format):
                for fmt, ids in ids_of(bodies).items():
                    found[f"{name}.{fmt.value}"] = ids
    return found


VALIDATED: dict[str, list[str]] = {}  # validate()'s findings, by the documents' hash


def shape_problems(bodies: dict[Format, bytes]) -> list[str]:
    """validate() of one document set (every format), once per set of bytes: archive pages
    do not change from one check to the next."""
    key = hashlib.sha256(b"\0".join(bodies[fmt] for fmt in Format)).hexdigest()
    if key not in VALIDATED:
        VALIDATED[key] = validate((fmt.value, body) for fmt, body in bodies.items())
    return VALIDATED[key]


def table_names(db: str) -> list[str]:
    engine = sa.create_engine(engine_url(db))
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def entry_counts(store: Store) -> dict[str, int]:
    """{source id: stored entries}, straight from the entries table."""
    query = sa.text("SELECT source_id, COUNT(*) FROM entries GROUP BY source_id")
    with store.engine.connect() as conn:
        return {str(row[0]): int(row[1]) for row in conn.execute(query)}


def consistency_problems(db: str, config_dir: Path, versions: tuple[int, ...]) -> list[str]:
    """What is wrong with the database a killed update left (see the module docstring);
    `versions` are the input versions the stored articles may be at."""
    config = load_config(config_dir)
    with Store(db, migrate=False) as store:
        revision = store.schema_revision()
        if revision is None:
            tables = table_names(db)
            return [f"no schema version, but tables {tables}"] if tables else []
        if revision != HEAD_REVISION:
            return [f"schema revision {revision}, not {HEAD_REVISION}"]
        problems = source_problems(store)
        titles = {a.slug: a.title for a in store.articles() if a.slug.startswith("local")}
        if titles and titles not in [Inputs.articles(v) for v in versions]:
            problems.append(f"articles of no one version: {titles}")
        # Articles deleted by the sync, which the documents published before it still show.
        deleted = {slug for v in versions for slug in Inputs.articles(v)} - titles.keys()
        for feed in FEED_NAMES:
            problems += archive_problems(store, config, feed)
            for variant, name in current(feed):
                problems += current_problems(store, config, feed, variant, name, deleted)
    return problems + served_problems(db, config_dir)


def source_problems(store: Store) -> list[str]:
    problems = []
    states = store.source_states()
    counts = entry_counts(store)
    for source_id in counts.keys() - states.keys():
        problems.append(f"{counts[source_id]} entries of {source_id}, a source not stored")
    for source_id, status in states.items():
        if (status.body_hash is not None) != (source_id in counts):
            problems.append(
                f"source {source_id}: body hash {status.body_hash} with "
                f"{counts.get(source_id, 0)} entries stored"
            )
    return problems


def archive_problems(store: Store, config: Config, feed: str) -> list[str]:
    problems = []
    first = 1
    for number, page in enumerate(store.archive_pages(feed), 1):
        where = f"{feed}/archive/{page.number}"
        if (page.number, page.first) != (number, first) or page.last < page.first:
            problems.append(f"{where}: numbered {page.number}, items {page.first}-{page.last}")
        first = page.last + 1
        bodies = documents(store, feed, page.number)
        if len(bodies) != len(Format):
            problems.append(f"{where}: in {sorted(f.value for f in bodies)} only")
            continue
        problems += [f"{where}: {p}" for p in shape_problems(bodies)]
        shown = set(ids_of(bodies)[Format.RSS])
        items = store.feed_items_range(feed, page.first, page.last)
        recorded = {iri(config.site, item.id) for item in items}
        if shown != recorded and not (page.stale and recorded <= shown):
            problems.append(f"{where}: shows {sorted(shown ^ recorded)} unlike its record")
    return problems


def current_problems(
    store: Store, config: Config, feed: str, variant: str, name: str, deleted: set[str]
) -> list[str]:
    """Problems of one variant of a feed's current documents. Their items are all recorded
    for the feed's archive (recorded first, in the same publish), but for the articles in
    `deleted`: their sync removes them from the record at once, the documents only at the
    feed's next publish."""
    bodies = documents(store, feed, 0, variant)
    if not bodies:
        return []
    if len(bodies) != len(Format):
        return [f"{name}: current documents in {sorted(f.value for f in bodies)} only"]
    problems = [f"{name}: {p}" for p in shape_problems(bodies)]
    recorded = {iri(config.site, i.id) for i in store.feed_items_range(feed, 1, 10**9)}
    unrecorded = {
        item
        for item in set(ids_of(bodies)[Format.RSS]) - recorded
        if item.rsplit("/", 1)[-1] not in deleted  # an article's id is its link
    }
    if unrecorded:
        problems.append(f"{name}: items not recorded for its archive: {sorted(unrecorded)}")
    pages = len(store.archive_pages(feed))
    for link in etree.fromstring(bodies[Format.ATOM]).findall(f"{ATOM}link"):
        if link.get("rel") == "prev-archive":
            number = int((link.get("href") or "").rsplit("/", 1)[1].split(".")[0])
            if number > pages:
                problems.append(f"{name}: links to archive page {number} of {pages}")
    return problems


def served_problems(db: str, config_dir: Path) -> list[str]:
    """The web app serves the stored bytes (or 503 for a feed not published yet), to the
    public and to the partner."""
    problems = []
    settings = {"FEEDS_CONFIG": str(config_dir), "DATABASE_URL": db, "TESTING": True}
    app = create_app({**settings, "CACHE_SECONDS": 0, "READERSHIP": False})
    partner = {"Authorization": f"Bearer {PARTNER_KEY}"}
    try:
        client = app.test_client()
        with Store(db, migrate=False) as store:
            for feed in FEED_NAMES:
                for variant, name in current(feed):
                    for fmt in Format:
                        stored = store.get_document(feed, fmt, 0, variant)
                        url = f"/feeds/{feed}.{fmt.value}"
                        response = client.get(
                            url, base_url=BASE_URL, headers=partner if variant else {}
                        )
                        if stored is None and response.status_code != 503:
                            problems.append(f"{name}.{fmt.value}: {response.status_code}, no 503")
                        elif stored is not None and (
                            response.status_code != 200 or response.data != stored.body
                        ):
                            problems.append(f"{name}.{fmt.value}: served unlike stored")
        for path in ("/healthz", "/status.json"):
            if (status := client.get(path, base_url=BASE_URL).status_code) != 200:
                problems.append(f"{path}: {status}")
    finally:
        state(app).store.close()
    return problems


# --------------------------------------------------------------------------- the rounds


@dataclass(frozen=True)
class Stored:
    """What a database holds, to tell how far a killed update got."""

    hashes: dict[str, str | None]
    etags: dict[tuple[str, Format], str]
    articles: dict[str, str]

    @classmethod
    def read(cls, db: str) -> Stored | None:
        with Store(db, migrate=False) as store:
            if store.schema_revision() is None:
                return None
            return cls(
                {sid: s.body_hash for sid, s in store.source_states().items()},
                store.document_etags(),
                {a.slug: a.title for a in store.articles() if a.slug.startswith("local")},
            )

    def progress(self, before: Stored | None) -> str:
        hashes = before.hashes if before else {}
        etags = before.etags if before else {}
        fetched = sum(1 for sid, h in self.hashes.items() if h and h != hashes.get(sid))
        feeds = {
            feed for key, tag in self.etags.items() if etags.get(key) != tag for feed in key[:1]
        }
        versions = [v for v in (2, 3) if Inputs.articles(v) == self.articles]
        synced = f"v{versions[-1]}" if versions and self.articles else "none"
        return (
            f"{fetched}/{FAST + BIG + SLOW} sources stored, articles {synced}, "
            f"{len(feeds)}/{len(FEED_NAMES)} feeds published"
        )


@dataclass
class Reference:
    """A never-crashed run of each round's command: its item ids and how long it took."""

    cold: Snapshot
    warm: Snapshot
    cold_seconds: float
    warm_seconds: float


class Scenario:
    """The rounds on one database (SQLite or PostgreSQL)."""

    def __init__(
        self, name: str, inputs: Inputs, seed: int, slices: dict[bool, list[int]], log: list[str]
    ) -> None:
        self.name, self.inputs, self.seed, self.log = name, inputs, seed, log
        self.rng = random.Random(f"{seed}-{name}")
        self.slices = slices  # of [0, d] to kill in, cold (False) and warm (True) rounds

    def reference(self, db: str) -> Reference:
        seconds = []
        snapshots = []
        for version, args in ((2, ["update"]), (3, ["update", "--force"])):
            self.inputs.set_version(version)
            status, output, took, left = run_feeds(self.inputs.config, db, *args)
            assert status == 0 and not left, (output, left)
            seconds.append(took)
            with Store(db) as store:
                snapshots.append(snapshot(store))
            problems = consistency_problems(db, self.inputs.config, (version,))
            assert not problems, problems
        assert all(f"{feed}.{fmt.value}" in snapshots[0] for feed in FEED_NAMES for fmt in Format)
        assert any("/archive/" in key for key in snapshots[0]), sorted(snapshots[0])
        self.log.append(
            f"{self.name}: uncrashed update {seconds[0]:.2f} s, --force {seconds[1]:.2f} s"
        )
        return Reference(snapshots[0], snapshots[1], seconds[0], seconds[1])

    def round(self, db: str, number: int, ref: Reference, *, warm: bool) -> None:
        version, args = (3, ["update", "--force"]) if warm else (2, ["update"])
        seconds, expected = (ref.warm_seconds, ref.warm) if warm else (ref.cold_seconds, ref.cold)
        config = self.inputs.config
        before = Stored.read(db) if warm else None
        self.inputs.set_version(version)
        delay = seconds * (self.slices[warm].pop() + self.rng.random()) / SLICES
        how = signal.SIGTERM if self.rng.random() < SIGTERM_SHARE else signal.SIGKILL
        kill = run_and_kill(config, db, args, delay, how)
        after = Stored.read(db)
        where = "before the schema was created" if after is None else after.progress(before)
        if kill.ended_first:
            where += " (the update had ended)"
        line = (
            f"{self.name} round {number} ({'warm' if warm else 'cold'}, feeds {' '.join(args)}): "
            f"{how.name} after {delay:.2f} of {seconds:.2f} s ({kill.seen} processes of its "
            f"own seen): {where}"
        )
        self.log.append(line)
        context = f"FEEDS_CRASH_SEED={self.seed}, {line}"
        assert not kill.survivors, f"{context}: processes left behind: {kill.survivors}"
        problems = consistency_problems(db, config, (version - 1, version) if warm else (version,))
        assert not problems, f"{context}: {problems}\n{kill.output}"
        status = main(["--config", str(config), "--database", db, "sources"])  # a read command
        assert status == 0, f"{context}: feeds sources: exit status {status}"
        status, output, _, left = run_feeds(config, db, *args)
        assert status == 0 and not left, f"{context}: recovery: {status} {left}\n{output}"
        assert f"feeds: {len(FEED_NAMES)}," in output, f"{context}: recovery:\n{output}"
        problems = consistency_problems(db, config, (version,))
        assert not problems, f"{context}: after recovery: {problems}"
        with Store(db, migrate=False) as store:
            got = snapshot(store)
            stale = [(f, p.number) for f in FEED_NAMES for p in store.archive_pages(f) if p.stale]
            failing = [s.id for s in store.source_states().values() if s.last_error]
        assert not stale and not failing, f"{context}: after recovery: {stale} {failing}"
        differ = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
        assert not differ, f"{context}: after recovery, unlike the uncrashed run: {differ}"

    def run(self, reference_db: str, fresh_db: Callable[[], AbstractContextManager[str]]) -> None:
        ref = self.reference(reference_db)
        for number in range(ROUNDS):
            with fresh_db() as db:
                self.round(db, 2 * number + 1, ref, warm=False)
                self.round(db, 2 * number + 2, ref, warm=True)


def test_killed_updates_leave_a_consistent_database_and_no_process(
    tmp_path: Path, upstream: Upstream, both_db_urls: tuple[str, str]
) -> None:
    seed = int(os.environ.get("FEEDS_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash test seed {seed} (FEEDS_CRASH_SEED={seed} replays its delays and signals)")
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    log: list[str] = []
    # Delays are stratified: [0, d] is cut into SLICES equal slices, and each kind of round
    # (cold, warm) kills once in each, on one database or the other, in a random order.
    rng = random.Random(seed)
    slices: dict[str, dict[bool, list[int]]] = {"sqlite": {}, "postgresql": {}}
    for warm in (False, True):
        order = rng.sample(range(SLICES), SLICES)
        slices["sqlite"][warm], slices["postgresql"][warm] = order[:ROUNDS], order[ROUNDS:]
    results: dict[str, BaseException | None] = {}
    sqlite_files = iter(range(ROUNDS))

    @contextlib.contextmanager
    def fresh_sqlite() -> Iterator[str]:
        yield f"sqlite:///{tmp_path / f'crash{next(sqlite_files)}.db'}"

    def run(name: str, reference_db: str, fresh: Callable[[], AbstractContextManager[str]]) -> None:
        root = tmp_path / name
        root.mkdir()
        inputs = Inputs(root, upstream, name, base)
        try:
            Scenario(name, inputs, seed, slices[name], log).run(reference_db, fresh)
            results[name] = None
        except BaseException as e:  # reported below, in the test's thread
            results[name] = e

    sqlite, postgresql = both_db_urls
    threads = [
        threading.Thread(target=run, args=("sqlite", sqlite, fresh_sqlite)),
        threading.Thread(target=run, args=("postgresql", postgresql, postgres_schema)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("\n".join(log))
    for name, error in results.items():
        if error is not None:
            raise AssertionError(f"on {name} (crash test seed {seed})") from error
    assert results.keys() == {"sqlite", "postgresql"}

"""Readership: counted per feed, variant, partner and status in the web process, flushed to
the store, added up across processes, and shown by `feeds stats`, /metrics and the store.

The load is a loopback one: known User-Agents of aggregators, readers and browsers, and
partners with their keys, against the served app (Flask's test client, subprocesses, and the
Procfile's gunicorn line)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from feeds.errors import ConfigError, StoreError
from feeds.readership import Tally, aggregator, client_hash, utc_day
from feeds.store import Store
from feeds.types import ClientSighting, ReadershipBatch, RequestTally, SubscriberReport
from feeds.web import create_app, state
from feeds.web.usage import client_address, flush, usage_of
from tests.partners import PARTNER_FEEDS_TOML, add_partners, basic, bearer
from tests.sites import Site

FEEDLY = (
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; like FeedFetcher-Google)"
)
INOREADER = "Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 8 subscribers; )"
NEWSBLUR = (
    "NewsBlur Feed Fetcher - {n} subscribers - https://www.newsblur.com/site/{id}/our-articles "
    '("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like '
    'Gecko) Version/14.0.1 Safari/605.1.15")'
)
FEEDBIN = "Feedbin feed-id:4242 - 12 subscribers"
OLD_READER = "Mozilla/5.0 (compatible; theoldreader.com; 3 subscribers; feed-id=0719795c4d27c7)"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NETNEWSWIRE = "NetNewsWire (RSS Reader; https://netnewswire.com/)"

# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FEEDLY.format(n=16), ("Feedly", "", 16)),
        (
            "Feedly/1.0 (+https://feedly.com/poller.html; 1,204 subscribers; )",
            ("Feedly", "", 1204),
        ),
        (INOREADER, ("Inoreader", "", 8)),
        (NEWSBLUR.format(n=25, id=1234), ("NewsBlur", "1234", 25)),
        (
            "NewsBlur Feed Fetcher - 1 subscriber - https://www.newsblur.com/site/7/x",
            ("NewsBlur", "7", 1),
        ),
        (FEEDBIN, ("Feedbin", "4242", 12)),
        ("Feedbin - 1 subscribers", ("Feedbin", "", 1)),
        (OLD_READER, ("The Old Reader", "0719795c4d27c7", 3)),
        (
            "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 5 subscribers)",
            ("BazQux", "", 5),
        ),
        (
            "Netvibes (crawler/1.0; http://www.netvibes.com/; 5 subscribers; feedID: 5404723)",
            ("Netvibes", "5404723", 5),
        ),
        (
            "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 3 subscribers; "
            "feed-id=7675226481817637975)",
            ("Google Feedfetcher", "7675226481817637975", 3),
        ),
        ("SomeReader/2.1 (1,204 readers)", ("SomeReader", "", 1204)),
        (
            "PlainFeeder v0.0.1 (+http://plainfeeder.com/about ; Subscriber Count: 42)",
            ("PlainFeeder", "", 42),
        ),
        ("Mozilla/5.0 (compatible; Acme Reader; 0 subscribers)", ("Acme Reader", "", 0)),
    ],
)
def test_aggregators_report_their_subscribers_in_their_user_agent(
    user_agent: str, expected: tuple[str, str, int]
) -> None:
    assert aggregator(user_agent) == expected


@pytest.mark.parametrize(
    "user_agent",
    [
        "",
        FIREFOX,
        NETNEWSWIRE,
        "Mozilla/5.0 (compatible; Miniflux/2.1.0; +https://miniflux.app)",
        "Tiny Tiny RSS/24.05 (https://tt-rss.org/)",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)",
        "Reader 99999999999 subscribers",  # beyond belief
    ],
)
def test_other_user_agents_report_no_subscribers(user_agent: str) -> None:
    assert aggregator(user_agent) is None


def test_a_client_is_a_keyed_hash_that_differs_per_salt_and_feed() -> None:
    salt, other = b"s" * 32, b"t" * 32
    one = client_hash(salt, "ours", "10.0.0.1", FIREFOX)
    assert re.fullmatch(r"[0-9a-f]{16}", one)
    assert one == client_hash(salt, "ours", "10.0.0.1", FIREFOX)
    assert one != client_hash(other, "ours", "10.0.0.1", FIREFOX)
    assert one != client_hash(salt, "everything", "10.0.0.1", FIREFOX)
    assert one != client_hash(salt, "ours", "10.0.0.2", FIREFOX)
    message = f"ours\n10.0.0.1\n{FIREFOX}".encode()
    assert one == hashlib.blake2b(message, key=salt, digest_size=8).hexdigest()


def test_x_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    environ = {"REMOTE_ADDR": "10.9.9.9", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2, 3.3.3.3"}
    assert client_address(environ, 0) == "10.9.9.9"
    assert client_address(environ, 1) == "3.3.3.3"
    assert client_address(environ, 2) == "2.2.2.2"
    assert client_address(environ, 4) == "10.9.9.9"  # fewer hops than proxies: not believed
    assert client_address({"REMOTE_ADDR": "10.9.9.9"}, 1) == "10.9.9.9"


def test_a_tally_gives_back_a_batch_it_could_not_store() -> None:
    tally = Tally(lambda day: b"s" * 32)
    now = datetime(2026, 11, 30, 12, 30, tzinfo=UTC).timestamp()
    tally.count(now, "ours", "rss", "", "", 200, 100, FIREFOX, "10.0.0.1")
    tally.count(now, "ours", "rss", "", "", 200, 100, FEEDLY.format(n=3), "10.0.0.2")
    batch = tally.drain()
    assert not tally.drain()
    tally.restore(batch)
    tally.count(now + 1, "ours", "rss", "", "", 304, 0, FIREFOX, "10.0.0.1")
    again = tally.drain()
    assert sorted((r.status, r.requests, r.bytes) for r in again.requests) == [
        (200, 2, 200),
        (304, 1, 0),
    ]
    assert [(s.aggregator, s.subscribers) for s in again.subscribers] == [("Feedly", 3)]
    assert len(again.clients) == 1
    # Flushed once, a client is not sent again the same day.
    tally.count(now + 2, "ours", "rss", "", "", 304, 0, FIREFOX, "10.0.0.1")
    assert tally.drain().clients == ()


# --------------------------------------------------------------------------- a served load


@pytest.fixture
def keys(site: Site, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """alpha reads the full text of ours and the partners feed; beta summaries of
    everything. Published once."""
    return add_partners(
        site,
        capsys,
        PARTNER_FEEDS_TOML,
        [
            ("alpha", '["ours", "private-wire"]', "full", True),
            ("beta", '["everything"]', "summary", True),
        ],
    )


def make_app(site: Site, **settings: object) -> FlaskClient:
    app = create_app(
        {
            "FEEDS_CONFIG": str(site.config),
            "DATABASE_URL": site.db,
            "READERSHIP_FLUSH_SECONDS": 3600,  # flushed by the tests
            **settings,
        }
    )
    return app.test_client()


@pytest.fixture
def web(site: Site, keys: dict[str, str]) -> Iterator[FlaskClient]:
    client = make_app(site)
    yield client
    state(client.application).store.close()


@dataclass
class Load:
    """What the load sent: (feed, variant, partner, status) -> [requests, bytes]."""

    sent: dict[tuple[str, str, str, int], list[int]]

    def get(
        self,
        web: FlaskClient,
        path: str,
        status: int,
        *,
        count: tuple[str, str, str] | None,
        method: str = "GET",
        address: str = "127.0.0.1",
        **headers: str,
    ) -> str:
        response = web.open(
            path,
            method=method,
            headers={k.replace("_", "-"): v for k, v in headers.items()},
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == status, (path, headers, response.status_code)
        if count is not None:
            tally = self.sent.setdefault((*count, status), [0, 0])
            tally[0] += 1
            tally[1] += len(response.data)
        return response.headers.get("ETag", "")


def serve_load(web: FlaskClient, keys: dict[str, str]) -> Load:
    """Aggregators, readers and browsers on the public feeds; partners with their keys."""
    load = Load({})
    public = ("ours", "", "")
    etag = load.get(web, "/feeds/ours.rss", 200, count=public, User_Agent=FEEDLY.format(n=16))
    load.get(
        web,
        "/feeds/ours.rss",
        304,
        count=public,
        User_Agent=FEEDLY.format(n=17),
        If_None_Match=etag,
    )
    load.get(web, "/feeds/ours.atom", 200, count=public, User_Agent=INOREADER)
    load.get(web, "/feeds/ours.rss", 200, count=public, User_Agent=NEWSBLUR.format(n=25, id=1234))
    load.get(web, "/feeds/ours.rss", 200, count=public, User_Agent=NEWSBLUR.format(n=3, id=5678))
    load.get(web, "/feeds/ours.json", 200, count=public, User_Agent=FEEDBIN)
    load.get(web, "/feeds/ours.atom", 200, count=public, User_Agent=OLD_READER)
    # Three other clients of ours (one of them twice, and once more as HEAD), one of
    # everything; the gzip copy's bytes are what is sent.
    etag = load.get(
        web, "/feeds/ours.rss", 200, count=public, User_Agent=FIREFOX, address="10.0.0.1"
    )
    load.get(
        web,
        "/feeds/ours.rss",
        304,
        count=public,
        User_Agent=FIREFOX,
        address="10.0.0.1",
        If_None_Match=etag,
    )
    load.get(
        web,
        "/feeds/ours.rss",
        200,
        count=public,
        method="HEAD",
        User_Agent=FIREFOX,
        address="10.0.0.1",
    )
    load.get(web, "/feeds/ours.atom", 200, count=public, User_Agent=NETNEWSWIRE, address="10.0.0.1")
    load.get(
        web,
        "/feeds/ours.json",
        200,
        count=public,
        User_Agent=FIREFOX,
        address="10.0.0.2",
        Accept_Encoding="gzip",
    )
    load.get(
        web,
        "/feeds/everything.rss",
        200,
        count=("everything", "", ""),
        User_Agent=FIREFOX,
        address="10.0.0.1",
    )
    # Partners: alpha's full text of ours (Bearer, then a 304), alpha on the partners feed
    # (Basic), beta's summary of everything; alpha on a public feed it is not granted reads
    # the public document, as the public.
    alpha = ("ours", "full", "alpha")
    etag = load.get(web, "/feeds/ours.rss", 200, count=alpha, **bearer(keys["alpha"]))
    load.get(web, "/feeds/ours.rss", 304, count=alpha, If_None_Match=etag, **bearer(keys["alpha"]))
    load.get(
        web,
        "/feeds/private-wire.atom",
        200,
        count=("private-wire", "", "alpha"),
        **basic("alpha", keys["alpha"]),
    )
    load.get(
        web,
        "/feeds/everything.json",
        200,
        count=("everything", "summary", "beta"),
        **bearer(keys["beta"]),
    )
    load.get(
        web,
        "/feeds/everything.atom",
        200,
        count=("everything", "", ""),
        User_Agent=NETNEWSWIRE,
        address="10.0.0.3",
        **bearer(keys["alpha"]),
    )
    # Refused: no key, a wrong key (401), a key not granted the feed (403).
    private = ("private-wire", "", "")
    load.get(web, "/feeds/private-wire.rss", 401, count=private)
    load.get(web, "/feeds/private-wire.rss", 401, count=private, **bearer("not-a-key"))
    load.get(web, "/feeds/private-wire.rss", 403, count=private, **bearer(keys["beta"]))
    # Not counted: unknown feeds, archive pages, other pages.
    load.get(web, "/feeds/nope.rss", 404, count=None)
    load.get(web, "/feeds/ours/archive/1.rss", 404, count=None)
    load.get(web, "/", 200, count=None)
    return load


def test_a_served_load_is_counted_exactly(
    web: FlaskClient, keys: dict[str, str], site: Site
) -> None:
    load = serve_load(web, keys)
    assert flush(web.application)
    seen = state(web.application).store.readership()
    got = {(r.feed, r.variant, status): count for r in seen.feeds for status, count in r.statuses}
    expected = {}
    for (feed, variant, _partner, status), (n, _bytes) in load.sent.items():
        expected[(feed, variant, status)] = expected.get((feed, variant, status), 0) + n
    assert got == expected
    sent = {}
    for (feed, variant, _partner, _status), (_n, size) in load.sent.items():
        sent[(feed, variant)] = sent.get((feed, variant), 0) + size
    assert {(r.feed, r.variant): r.bytes for r in seen.feeds} == sent
    assert {r.feed: r.requests for r in seen.feeds if r.variant == ""} == {
        "ours": 12,
        "everything": 2,
        "private-wire": 4,
    }
    assert seen.subscribers_of("ours") == 17 + 8 + 25 + 3 + 12 + 3
    assert sorted((s.aggregator, s.feed_id, s.format, s.subscribers) for s in seen.subscribers) == [
        ("Feedbin", "4242", "json", 12),
        ("Feedly", "", "rss", 17),
        ("Inoreader", "", "atom", 8),
        ("NewsBlur", "1234", "rss", 25),
        ("NewsBlur", "5678", "rss", 3),
        ("The Old Reader", "0719795c4d27c7", "atom", 3),
    ]
    today = utc_day(time.time())
    assert seen.clients_on("ours", today) == 3  # Firefox and NetNewsWire at .1, Firefox at .2
    assert seen.clients_on("everything", today) == 2
    assert seen.clients_on("private-wire", today) == 0
    assert [(p.partner, p.requests, p.feeds) for p in seen.partners] == [
        ("alpha", 3, ("ours", "private-wire")),
        ("beta", 1, ("everything",)),
    ]
    assert all(datetime.now(UTC) - p.last_seen < timedelta(minutes=1) for p in seen.partners)
    # Since an hour ago: the same requests (counted by the hour).
    recent = state(web.application).store.readership(datetime.now(UTC) - timedelta(hours=1))
    assert recent.feeds == seen.feeds and recent.partners == seen.partners


# --------------------------------------------------------------------------- feeds stats

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ")


def tables(out: str) -> list[list[str]]:
    """The tables `feeds stats` printed (after its heading), each as its lines."""
    blocks = out.strip("\n").split("\n\n")
    return [block.splitlines() for block in blocks[1:]]


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def assert_aligned(lines: list[str]) -> None:
    """Every cell starts where its column's header starts (text) or ends where it ends
    (numbers)."""
    header = [(m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    starts, ends = {a for a, _ in header}, {b for _, b in header}
    for line in lines[1:]:
        for m in re.finditer(r"\S+(?: \S+)*", line):
            assert m.start() in starts or m.end() in ends, (line, m.group())


def test_feeds_stats_shows_the_exact_figures(
    web: FlaskClient, keys: dict[str, str], site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    load = serve_load(web, keys)
    assert flush(web.application)

    def sent(feed: str, variant: str) -> int:
        return sum(b for (f, v, _p, _s), (_n, b) in load.sent.items() if (f, v) == (feed, variant))

    today = f"{utc_day(time.time()):%Y-%m-%d}"
    for since in ([], ["--since", "2h"], ["--since", "1d"]):
        capsys.readouterr()
        assert site.feeds("stats", *since) == 0
        out = capsys.readouterr().out
        heading = out.splitlines()[0]
        if since:
            assert heading.startswith("Readership since ") and f"({since[1]};" in heading
        else:
            assert heading.startswith("Readership at ")
        feeds, partners, subscribers, clients = tables(out)
        for lines in (feeds, partners, subscribers, clients):
            assert_aligned(lines)
        assert [cells(line) for line in feeds] == [
            ["FEED", "VARIANT", "REQUESTS", "200", "304", "OTHER", "BYTES"],
            ["everything", "own", "2", "2", "0", "0", str(sent("everything", ""))],
            ["everything", "summary", "1", "1", "0", "0", str(sent("everything", "summary"))],
            ["ours", "own", "12", "10", "2", "0", str(sent("ours", ""))],
            ["ours", "full", "2", "1", "1", "0", str(sent("ours", "full"))],
            ["private-wire", "own", "4", "1", "0", "3", str(sent("private-wire", ""))],
        ]
        assert [cells(TIME.sub("T", line)) for line in partners] == [
            ["PARTNER", "REQUESTS", "LAST SEEN", "FEEDS READ"],
            ["alpha", "3", "T", "ours, private-wire"],
            ["beta", "1", "T", "everything"],
        ]
        assert [cells(TIME.sub("T", line)) for line in subscribers] == [
            ["FEED", "AGGREGATOR", "FEED ID", "FORMAT", "SUBSCRIBERS", "REPORTED"],
            ["ours", "Feedbin", "4242", "json", "12", "T"],
            ["ours", "Feedly", "-", "rss", "17", "T"],
            ["ours", "Inoreader", "-", "atom", "8", "T"],
            ["ours", "NewsBlur", "1234", "rss", "25", "T"],
            ["ours", "NewsBlur", "5678", "rss", "3", "T"],
            ["ours", "The Old Reader", "0719795c4d27c7", "atom", "3", "T"],
            ["ours", "(all)", "68"],
        ]
        assert [cells(line) for line in clients] == [
            ["DAY", "FEED", "CLIENTS"],
            [today, "everything", "2"],
            [today, "ours", "3"],
        ]


def test_feeds_stats_lists_what_nobody_read_and_refuses_a_bad_duration(
    site: Site, keys: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert site.feeds("stats") == 0
    feeds, partners, subscribers, clients = tables(capsys.readouterr().out)
    assert [cells(line) for line in feeds[1:]] == [
        ["everything", "own", "0", "0", "0", "0", "0"],
        ["ours", "own", "0", "0", "0", "0", "0"],
        ["private-wire", "own", "0", "0", "0", "0", "0"],
    ]
    assert [cells(line) for line in partners[1:]] == [
        ["alpha", "0", "never", "-"],
        ["beta", "0", "never", "-"],
    ]
    assert subscribers[1:] == clients[1:] == []
    for bad in ("0s", "week", "7"):
        with pytest.raises(SystemExit) as e:
            site.feeds("stats", "--since", bad)
        assert e.value.code == 2
        assert "--since" in capsys.readouterr().err


def test_metrics_expose_the_readership(web: FlaskClient, keys: dict[str, str]) -> None:
    load = serve_load(web, keys)
    assert flush(web.application)
    lines = set(web.get("/metrics").text.splitlines())
    sent = sum(b for (f, v, _p, _s), (_n, b) in load.sent.items() if (f, v) == ("ours", ""))
    for line in (
        "# TYPE feeds_feed_requests_total counter",
        'feeds_feed_requests_total{feed="ours",variant="own",status="200"} 10',
        'feeds_feed_requests_total{feed="ours",variant="own",status="304"} 2',
        'feeds_feed_requests_total{feed="ours",variant="full",status="200"} 1',
        'feeds_feed_requests_total{feed="ours",variant="full",status="304"} 1',
        'feeds_feed_requests_total{feed="everything",variant="summary",status="200"} 1',
        'feeds_feed_requests_total{feed="private-wire",variant="own",status="401"} 2',
        'feeds_feed_requests_total{feed="private-wire",variant="own",status="403"} 1',
        "# TYPE feeds_feed_bytes_total counter",
        f'feeds_feed_bytes_total{{feed="ours",variant="own"}} {sent}',
        "# TYPE feeds_feed_subscribers gauge",
        'feeds_feed_subscribers{feed="ours"} 68',
        'feeds_feed_subscribers{feed="everything"} 0',
        'feeds_feed_clients_today{feed="ours"} 3',
        'feeds_feed_clients_today{feed="everything"} 2',
        "# TYPE feeds_partner_requests_total counter",
        'feeds_partner_requests_total{partner="alpha"} 3',
        'feeds_partner_requests_total{partner="beta"} 1',
    ):
        assert line in lines
    # A partners feed has no public subscribers or clients to show.
    assert not any(line.startswith('feeds_feed_subscribers{feed="private-wire"') for line in lines)


# --------------------------------------------------------------------------- processes

SERVE = """
import sys, time
from feeds.web import create_app

config, database, count, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
settings = {"FEEDS_CONFIG": config, "DATABASE_URL": database}
app = create_app({**settings, "READERSHIP_FLUSH_SECONDS": float(seconds)})
client = app.test_client()
feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; %d subscribers; )"
for n in range(count):
    agent = feedly % n if n % 6 == 5 else "Reader %d" % (n % 6)
    response = client.get("/feeds/ours.rss", headers={"User-Agent": agent})
    assert response.status_code == 200, response.status_code
    time.sleep(0.001)
# No explicit flush: what is left is flushed when the process exits.
"""


def serve_in_a_process(site: Site, count: int, flush_seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, str(site.config), site.db, str(count), str(flush_seconds)],
        cwd=Path(__file__).parent.parent,
    )


def public_requests(store: Store, feed: str = "ours") -> int:
    return sum(r.requests for r in store.readership().feeds if (r.feed, r.variant) == (feed, ""))


def test_counts_survive_the_process_that_made_them(site: Site, keys: dict[str, str]) -> None:
    """A process that never flushed by itself (a flush interval of an hour) still stores
    every count: it flushes when it exits."""
    assert serve_in_a_process(site, 30, 3600).wait(60) == 0
    store = Store(site.db)
    try:
        assert public_requests(store) == 30
        seen = store.readership()
        assert seen.clients_on("ours", utc_day(time.time())) == 5
        # The latest figure Feedly reported: the 30th request (n = 29) was its.
        assert [(s.aggregator, s.subscribers) for s in seen.subscribers] == [("Feedly", 29)]
    finally:
        store.close()


def test_two_processes_add_up_and_agree_on_clients(site: Site, keys: dict[str, str]) -> None:
    """Two web processes flushing every 50 ms into one database: every request counted
    once, and each client once (they share the day's salt)."""
    first, second = serve_in_a_process(site, 120, 0.05), serve_in_a_process(site, 90, 0.05)
    assert first.wait(120) == 0 and second.wait(120) == 0
    store = Store(site.db)
    try:
        assert public_requests(store) == 210
        assert store.readership().clients_on("ours", utc_day(time.time())) == 5
    finally:
        store.close()


def test_the_procfile_web_workers_count_and_flush_when_stopped(
    site: Site, keys: dict[str, str]
) -> None:
    """The Procfile's web: line (two gunicorn workers): every request of a loopback load is
    counted once the server stops gracefully, partners' too."""
    procfile = (Path(__file__).parent.parent / "Procfile").read_text(encoding="utf-8")
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, FEEDS_CONFIG=str(site.config), DATABASE_URL=site.db, PORT=str(port))
    command = web.removeprefix("web:").strip().replace("0.0.0.0:$PORT", f"127.0.0.1:{port}")
    proc = subprocess.Popen(
        ["sh", "-c", f"exec {Path(sys.executable).parent}/{command}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/feeds"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/everything.rss", timeout=2)  # counted as well
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for n in range(40):
            agent = FEEDLY.format(n=n) if n % 4 == 0 else f"Reader {n % 3}"
            response = httpx.get(f"{base}/ours.atom", headers={"User-Agent": agent}, timeout=5)
            assert response.status_code == 200
        for _ in range(3):
            response = httpx.get(f"{base}/ours.atom", headers=bearer(keys["alpha"]), timeout=5)
            assert response.status_code == 200
    finally:
        proc.terminate()  # SIGTERM: gunicorn stops its workers gracefully
        assert proc.wait(timeout=30) == 0
    store = Store(site.db)
    try:
        seen = store.readership()
        assert public_requests(store) == 40
        assert public_requests(store, "everything") == 1
        assert [(p.partner, p.requests) for p in seen.partners] == [("alpha", 3)]
        assert [(s.aggregator, s.subscribers) for s in seen.subscribers] == [("Feedly", 36)]
        assert seen.clients_on("ours", utc_day(time.time())) == 3
    finally:
        store.close()


# --------------------------------------------------------------------------- privacy


def all_readership_rows(url: str) -> str:
    """Every value of every readership table, as text."""
    from feeds.store import engine_url

    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            names = [n for n in sa.inspect(conn).get_table_names() if n.startswith("readership")]
            return "\n".join(
                repr(tuple(row))
                for name in names
                for row in conn.execute(sa.text(f"SELECT * FROM {name}"))
            )
    finally:
        engine.dispose()


def test_clients_are_stored_as_keyed_hashes_dropped_with_their_salt(
    web: FlaskClient, keys: dict[str, str], site: Site
) -> None:
    serve_load(web, keys)
    assert flush(web.application)
    stored = all_readership_rows(site.db)
    for raw in ("10.0.0.1", "10.0.0.2", "127.0.0.1", "Firefox", "NetNewsWire", keys["alpha"]):
        assert raw not in stored
    store = state(web.application).store
    now = datetime.now(UTC)
    today = now.date()
    salt = store.readership_salt(today)
    assert len(salt) == 32
    with store.engine.connect() as conn:
        hashes = {
            (r.feed, r.client)
            for r in conn.execute(sa.text("SELECT feed, client FROM readership_clients"))
        }
    assert hashes == {
        ("ours", client_hash(salt, "ours", "10.0.0.1", FIREFOX)),
        ("ours", client_hash(salt, "ours", "10.0.0.1", NETNEWSWIRE)),
        ("ours", client_hash(salt, "ours", "10.0.0.2", FIREFOX)),
        ("everything", client_hash(salt, "everything", "10.0.0.1", FIREFOX)),
        ("everything", client_hash(salt, "everything", "10.0.0.3", NETNEWSWIRE)),
    }
    # Tomorrow has its own salt already, so that no request waits for one at midnight.
    assert store.readership_salt(today + timedelta(days=1)) != salt
    # The next day, today's salt is gone; the day after, its hashes are counted and gone.
    store.readership_housekeeping(now + timedelta(days=1))
    with store.engine.connect() as conn:
        days = {r.day for r in conn.execute(sa.text("SELECT day FROM readership_salts"))}
        assert today not in {d if isinstance(d, date) else date.fromisoformat(d) for d in days}
    assert len(hashes) == 5
    store.readership_housekeeping(now + timedelta(days=2))
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM readership_clients")).scalar() == 0
    later = store.readership(now - timedelta(hours=1), now + timedelta(days=2))
    assert (later.clients_on("ours", today), later.clients_on("everything", today)) == (3, 2)
    # Late hashes of a day already counted are not added to it.
    store.record_readership(
        ReadershipBatch(clients=(ClientSighting(today, "ours", "0" * 16),)), today + timedelta(2)
    )
    assert (
        store.readership(now - timedelta(hours=1), now + timedelta(2)).clients_on("ours", today)
        == 3
    )


@pytest.mark.parametrize(("proxies", "clients"), [(0, 1), (1, 2)])
def test_x_forwarded_for_tells_clients_apart_only_behind_trusted_proxies(
    site: Site, keys: dict[str, str], proxies: int, clients: int
) -> None:
    web = make_app(site, TRUSTED_PROXIES=proxies)
    for forwarded in ("203.0.113.1", "203.0.113.2"):
        response = web.get(
            "/feeds/ours.rss",
            headers={"User-Agent": FIREFOX, "X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
        assert response.status_code == 200
    assert flush(web.application)
    store = state(web.application).store
    assert store.readership().clients_on("ours", utc_day(time.time())) == clients
    assert "203.0.113" not in all_readership_rows(site.db)
    store.close()


def test_counting_can_be_switched_off(site: Site, keys: dict[str, str]) -> None:
    web = make_app(site, READERSHIP=False)
    assert web.get("/feeds/ours.rss", headers={"User-Agent": FEEDLY.format(n=3)}).status_code == 200
    assert flush(web.application)
    store = state(web.application).store
    seen = store.readership()
    assert (seen.feeds, seen.subscribers, seen.clients) == ((), (), ())
    store.close()


def test_a_failed_flush_is_kept_for_the_next_one_and_counting_never_fails_a_response(
    site: Site, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    web = make_app(site)
    usage = usage_of(web.application)
    assert usage is not None
    for _ in range(3):
        assert web.get("/feeds/ours.rss", headers={"User-Agent": FIREFOX}).status_code == 200

    def down(*args: object) -> None:
        raise StoreError("database write failed: the server is down")

    with monkeypatch.context() as patch:
        patch.setattr(usage.store, "record_readership", down)
        assert not flush(web.application)
    assert web.get("/feeds/ours.rss", headers={"User-Agent": FIREFOX}).status_code == 200

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in counting")

    with monkeypatch.context() as patch:
        patch.setattr(usage.tally, "count", broken)
        assert web.get("/feeds/ours.rss").status_code == 200  # served, not counted
    assert flush(web.application)
    store = state(web.application).store
    assert public_requests(store) == 4
    assert store.readership().clients_on("ours", utc_day(time.time())) == 1
    store.close()


# --------------------------------------------------------------------------- the store


def test_the_store_adds_up_keeps_the_latest_figure_and_prunes(db_url: str) -> None:
    store = Store(db_url)
    now = datetime(2026, 11, 30, 12, 40, tzinfo=UTC)
    hour = now.replace(minute=0)
    old = hour - timedelta(days=100)

    def tally(at: datetime, n: int) -> RequestTally:
        return RequestTally(at, "ours", "", "", 200, n, 10 * n, at + timedelta(minutes=5))

    def report(at: datetime, n: int) -> SubscriberReport:
        return SubscriberReport("ours", "rss", "Feedly", "", n, at)

    try:
        store.record_readership(ReadershipBatch((tally(old, 1),), (report(old, 2),)), now.date())
        store.record_readership(ReadershipBatch((tally(hour, 2),), (report(now, 9),)), now.date())
        store.record_readership(ReadershipBatch((tally(hour, 3),), (report(hour, 5),)), now.date())
        ever = store.readership(None, now)
        assert [(r.requests, r.bytes) for r in ever.feeds] == [(6, 60)]
        assert [s.subscribers for s in ever.subscribers] == [9]  # the latest report wins
        hundred = store.readership(now - timedelta(days=101), now)
        assert [(r.requests, r.bytes) for r in hundred.feeds] == [(6, 60)]
        assert [r.requests for r in store.readership(now - timedelta(minutes=30), now).feeds] == [5]
        store.readership_housekeeping(now)  # the hourly counts of 100 days ago go
        assert [r.requests for r in store.readership(now - timedelta(days=101), now).feeds] == [5]
        assert [r.requests for r in store.readership(None, now).feeds] == [6]  # totals stay
        assert store.readership(None, now + timedelta(days=8)).subscribers == ()
    finally:
        store.close()


def test_a_bad_trusted_proxies_setting_is_a_clear_error(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDS_TRUSTED_PROXIES", "two")
    with pytest.raises(ConfigError) as e:
        create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db})
    assert e.value.problems == [
        "environment: FEEDS_TRUSTED_PROXIES: must be a whole number (0 or more), not 'two'"
    ]

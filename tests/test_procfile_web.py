"""The Procfile's web process, run for real: readers never see a feed go backwards across its
workers, and a thousand connections that send nothing or drip their headers a byte at a time
do not keep a normal reader waiting."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import httpx

from feeds import webserver as server
from feeds.store import Store
from feeds.types import Format
from tests.procfile import Crowd, procfile_web
from tests.sites import Site

HOSTILE = 1000
HOLD = server.KEEPALIVE + 5  # longer than the server lets a request's headers take


def test_a_thousand_idle_and_dripping_connections_do_not_starve_readers(site: Site) -> None:
    assert site.feeds("update") == 0
    with procfile_web(site) as base:
        port = int(base.rsplit(":", 1)[1])
        crowd = Crowd(port, HOSTILE)
        latencies: list[float] = []
        failures: list[str] = []
        try:
            with httpx.Client(timeout=5) as reader:
                end = time.monotonic() + HOLD
                while time.monotonic() < end:
                    crowd.tick()
                    start = time.monotonic()
                    try:
                        response = reader.get(f"{base}/feeds/ours.rss")
                        assert response.status_code == 200, response.status_code
                        assert b"<rss" in response.content
                        latencies.append(time.monotonic() - start)
                    except httpx.TransportError as e:
                        failures.append(repr(e))
                    time.sleep(0.5)
            assert len(crowd.socks) == HOSTILE  # the crowd was there all along
        finally:
            crowd.close()
    assert not failures
    assert len(latencies) >= HOLD  # every half second, less the time the requests took
    assert max(latencies) < 1.0, sorted(latencies)[-5:]
    assert crowd.reopened >= HOSTILE // 2  # the server closed the silent ones: headers timed out


def test_once_a_version_is_served_no_worker_serves_an_older_one(site: Site) -> None:
    """A new version of the feed every 50 ms for 8 s; four readers, each request on a new
    connection (so both workers serve them): a request that starts after another one ended
    never gets an older version than that one got."""
    assert site.feeds("update") == 0
    etags: dict[str, int] = {}  # ETag: version
    lock = threading.Lock()
    newest_seen = [-1]  # the newest version any finished request got
    backwards: list[tuple[int, int]] = []
    served: list[int] = []
    done = threading.Event()

    def read(base: str) -> None:
        with httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0)) as c:
            while not done.is_set():
                with lock:
                    floor = newest_seen[0]
                response = c.get(f"{base}/feeds/ours.rss")
                assert response.status_code == 200
                with lock:
                    tag = response.headers["ETag"].replace('-gz"', '"')  # the gzip copy's
                    version = etags.get(tag, -1)  # -1: the first publish
                    served.append(version)
                    if version < floor:
                        backwards.append((floor, version))
                    newest_seen[0] = max(newest_seen[0], version)

    with Store(site.db) as store, procfile_web(site) as base:
        readers = [threading.Thread(target=read, args=(base,)) for _ in range(4)]
        for reader in readers:
            reader.start()
        try:
            for version in range(160):
                body = f"<rss version='2.0'><!-- {version} --></rss>".encode()
                with lock:  # known before any reader can be served it
                    etags[_etag_of(store, body, version)] = version
                time.sleep(0.05)
        finally:
            done.set()
            for reader in readers:
                reader.join(timeout=10)
    assert not backwards, backwards[:10]
    assert len(set(served)) >= 40  # the readers saw the versions change, many times over
    assert len(served) >= 200


def _etag_of(store: Store, body: bytes, version: int) -> str:
    """Store ``body`` as the feed's RSS document; its ETag."""
    assert store.put_document("ours", Format.RSS, body, datetime.now(UTC))
    etag = store.document_etag("ours", Format.RSS)
    assert etag is not None
    return etag


def test_the_server_settings_import_nothing_of_the_app() -> None:
    """gunicorn's master imports the settings and the logger class before it forks the
    gevent workers, which patch the standard library: anything of the app imported then
    (a database driver, a lock) would block a whole worker instead of one greenlet."""
    code = (
        "import sys, feeds.webserver; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'werkzeug', 'sqlalchemy', 'psycopg', 'httpx', 'feeds')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['feeds', 'feeds.text', 'feeds.urls', 'feeds.webserver']"

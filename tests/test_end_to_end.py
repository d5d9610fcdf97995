"""The whole service: `feeds update` against loopback upstreams plus sample articles, then the
served bytes of every format, the 304s, and byte-stability of a second update.

Runs against SQLite and PostgreSQL (the db_url fixture).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient

from tests.sites import FIXTURES, Site

FEEDS = ("everything", "ours", "humanitarian")
FORMATS = ("rss", "atom", "json")


def test_update_summary(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.feeds("update") == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "3 new, 0 updated" in lines["wire"]
    assert "2 new, 0 updated" in lines["un"]
    assert "HTTP 500" in lines["down"]
    assert lines["articles:"].startswith("articles: 2 (2 added")
    assert lines["sources:"] == "sources: 3 fetched, 1 failed; feeds: 3, 9 documents changed"


def test_update_then_serve_every_format(
    site: Site, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert site.feeds("update") == 0
    rss = client.get("/feeds/everything.rss")
    assert rss.status_code == 200
    assert rss.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    parsed = feedparser.parse(rss.data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    titles = [e.title for e in parsed.entries]
    # 2 local articles + 3 wire + 2 UN entries, the silos story de-duplicated across sources
    assert len(titles) == 6
    # newest first; markup is gone from the title
    assert titles[:2] == [
        "Humanitarian access improves in Syria",
        "Aid convoy reaches northern Gaza",
    ]
    assert "Beirut’s grain silos: a memorial or a ruin?" in titles
    assert parsed.feed.link == "https://outlet.example/"
    convoy = next(e for e in parsed.entries if e.title.startswith("Aid convoy"))
    assert convoy.link == "https://wire.example/2026/11/aid-convoy"  # tracking params gone
    html = convoy.content[0].value
    assert "<script" not in html and "onclick" not in html
    # relative URLs resolved against the document's URL (RSS has no xml:base here)
    assert f'src="{site.upstream.url("/img/convoy.jpg")}"' in html

    atom = client.get("/feeds/everything.atom")
    assert atom.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed_atom = feedparser.parse(atom.data)
    assert parsed_atom.bozo == 0
    assert {e.id for e in parsed_atom.entries} == {e.id for e in parsed.entries}

    js = client.get("/feeds/everything.json")
    assert js.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    doc = json.loads(js.data)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == "https://feeds.outlet.example/feeds/everything.json"
    assert [i["id"] for i in doc["items"]] == [e.id for e in parsed.entries]
    arabic = next(i for i in doc["items"] if i["title"].startswith("الأردن"))
    assert arabic["authors"] == [{"name": "نور الهاشمي"}]

    ours = feedparser.parse(client.get("/feeds/ours.rss").data)
    assert len(ours.entries) == 2
    humanitarian = feedparser.parse(client.get("/feeds/humanitarian.rss").data)
    # UN entries only (tag:humanitarian); local articles tagged gaza: none; "down" failed
    assert sorted(e.title for e in humanitarian.entries) == [
        "Humanitarian access improves in Syria",
        "Same silos story, UN angle",
    ]

    for name in FEEDS:
        for fmt in FORMATS:
            assert client.get(f"/feeds/{name}.{fmt}").status_code == 200
    assert client.get("/feeds/nope.rss").status_code == 404
    assert client.get("/feeds/everything.xml").status_code == 404


def test_conditional_get_gzip_and_head(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    first = client.get("/feeds/everything.atom")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert client.get("/feeds/everything.atom", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/feeds/everything.atom", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    # If-None-Match wins over If-Modified-Since
    both = client.get(
        "/feeds/everything.atom",
        headers={"If-None-Match": '"other"', "If-Modified-Since": modified},
    )
    assert both.status_code == 200

    zipped = client.get("/feeds/everything.atom", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept, Accept-Encoding"
    assert zipped.headers["ETag"] != etag
    assert gzip.decompress(zipped.data) == first.data
    again = client.get(
        "/feeds/everything.atom",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304

    head = client.head("/feeds/everything.atom")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == etag
    assert int(head.headers["Content-Length"]) == len(first.data)


def test_second_update_keeps_every_etag(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    before = {(n, f): client.get(f"/feeds/{n}.{f}").headers["ETag"] for n in FEEDS for f in FORMATS}
    requests_before = len(site.upstream.requests)
    assert site.feeds("update", "--force") == 0  # every source again, due or not
    after = {(n, f): client.get(f"/feeds/{n}.{f}").headers["ETag"] for n in FEEDS for f in FORMATS}
    assert after == before
    # the second round was conditional: validators were sent
    second = site.upstream.requests[requests_before:]
    wire = [r.headers for r in second if r.path == "/wire.xml"]
    un = [r.headers for r in second if r.path == "/un.atom"]
    assert wire and wire[0].get("if-none-match") == '"wire-v1"'
    assert un and un[0].get("if-modified-since") == "Thu, 19 Nov 2026 12:00:00 GMT"


def test_changes_upstream_and_locally_are_published(
    site: Site, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert site.feeds("update") == 0
    etag = client.get("/feeds/everything.rss").headers["ETag"]
    wire = (FIXTURES / "upstream" / "wire.xml").read_text(encoding="utf-8")
    site.upstream.set(
        "/wire.xml",
        wire.replace("Jordan and Israel extend water deal", "Water deal extended to 2028").encode(),
        etag='"wire-v2"',
    )
    (site.config / "articles" / "water-ar.md").unlink()
    assert site.feeds("update", "--force") == 0
    assert "0 new, 1 updated" in capsys.readouterr().out
    response = client.get("/feeds/everything.rss")
    assert response.headers["ETag"] != etag
    titles = [e.title for e in feedparser.parse(response.data).entries]
    assert "Water deal extended to 2028" in titles
    assert not any(t.startswith("الأردن") for t in titles)


def test_sources_and_index_pages(
    site: Site, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert site.feeds("update") == 0
    capsys.readouterr()
    assert site.feeds("sources") == 0
    lines = capsys.readouterr().out.splitlines()
    by_id = {line.split()[0]: line for line in lines}
    assert by_id["wire"].split()[1:3] == ["ok", "200"]
    assert by_id["down"].split()[1:3] == ["error", "500"]
    assert "HTTP 500" in by_id["down"]

    data = client.get("/sources.json").get_json()
    states = {s["id"]: s["state"] for s in data["sources"]}
    assert states == {"wire": "ok", "un": "ok", "down": "error"}
    assert b"Broken upstream" in client.get("/sources").data

    index = client.get("/").data.decode()
    for name in FEEDS:
        assert f'href="/feeds/{name}.rss"' in index
    assert 'rel="alternate" type="application/atom+xml"' in index
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_bad_config_exits_nonzero_with_file_and_key(site: Site) -> None:
    (site.config / "sources.toml").write_text(
        '[[source]]\nid = "x"\nurl = "not a url"\ntitle = "X"\ninterval = "5 parsecs"\n',
        encoding="utf-8",
    )
    proc_code = site.feeds("check")
    assert proc_code != 0
    assert site.feeds("update") != 0


def test_the_installed_command_reads_its_environment(site: Site) -> None:
    """`feeds update` and `feeds sources` as a separate process, configured by
    FEEDS_CONFIG and DATABASE_URL alone (a postgresql:// URL in the PostgreSQL run)."""
    feeds = Path(sys.executable).parent / "feeds"
    env = dict(os.environ, FEEDS_CONFIG=str(site.config), DATABASE_URL=site.db)
    env.pop("FEEDS_ALLOW_PRIVATE_ADDRESSES", None)
    done = subprocess.run(
        [str(feeds), "update"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "sources: 3 fetched, 1 failed" in done.stdout
    listed = subprocess.run(
        [str(feeds), "sources"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["ID", "STATE"],
        ["wire", "ok"],
        ["un", "ok"],
        ["down", "error"],
    ]
    broken = dict(env, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    failed = subprocess.run(
        [str(feeds), "update"], env=broken, capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 3
    assert failed.stderr.startswith("database: cannot open database")

"""Partners: access.toml, keys, who gets which variant of a feed, and the headers that keep a
partner's copy private; sources' republishing rights in every feed, variant and format."""

from __future__ import annotations

import gzip
import hashlib
import html
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feeds.config import load_config
from feeds.errors import ConfigError
from feeds.store import Store
from feeds.types import Format
from feeds.urls import redact
from feeds.web import create_app, state
from feeds.web.logs import RedactKeys
from tests.partners import PARTNER_FEEDS_TOML, add_partners, basic, bearer, new_key
from tests.procfile import procfile_web
from tests.sites import Site
from tests.validators import validate

FEEDS_TOML = (
    PARTNER_FEEDS_TOML
    + """
[[feed]]
name = "humanitarian"
title = "Humanitarian"
local = ["gaza"]
sources = ["tag:humanitarian"]
"""
)


@pytest.fixture
def keys(site: Site, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Three partners: alpha (full text of ours and the partners feed), beta (summaries of
    everything) and gamma (disabled). Published once."""
    return add_partners(
        site,
        capsys,
        FEEDS_TOML,
        [
            ("alpha", '["ours", "private-wire"]', "full", True),
            ("beta", '["everything"]', "summary", True),
            ("gamma", '["*"]', "full", False),
        ],
    )


@pytest.fixture
def web(site: Site, keys: dict[str, str]) -> Iterator[FlaskClient]:
    app = create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db})
    with app.test_client() as c:
        yield c
    state(app).store.close()


def has_full_text(response: TestResponse) -> bool:
    return b"content:encoded" in response.data


# --------------------------------------------------------------------------- keys, config


def test_new_key_prints_a_fresh_url_safe_key_once_and_only_its_hash_for_the_file(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    key, line = new_key(site, "alpha", capsys)
    again, _ = new_key(site, "alpha", capsys)
    assert key != again
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key)  # 32 random bytes: 256 bits
    assert line == f'key_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"'
    assert site.feeds("partners", "new-key", "Not A Slug") == 2
    assert "not a partner id" in capsys.readouterr().err


def test_the_table_new_key_prints_is_a_valid_access_toml(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert site.feeds("partners", "new-key", "delta") == 0
    out = capsys.readouterr().out
    table = out[out.index("[[partner]]") :]
    (site.config / "access.toml").write_text(table, encoding="utf-8")
    config = load_config(site.config)
    assert [(p.id, p.feeds) for p in config.partners] == [("delta", ("*",))]
    assert site.feeds("check") == 0
    # Asked again for a partner that exists, it says to replace the hash.
    assert site.feeds("partners", "new-key", "delta") == 0
    assert "Replace key_sha256" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('id = "a"\nname = "A"\nfeeds = ["ours"]\nkey_sha256 = "abc"', "key_sha256: must be"),
        (
            f'id = "a"\nname = "A"\nfeeds = ["nope"]\nkey_sha256 = "{"0" * 64}"',
            "partner[a].feeds: unknown feed 'nope'",
        ),
        (f'id = "a"\nname = "A"\nkey_sha256 = "{"0" * 64}"', "partner[a].feeds: missing"),
        (
            f'id = "a"\nname = "A"\nfeeds = []\nkey_sha256 = "{"0" * 64}"',
            "partner[a].feeds: must name at least one feed",
        ),
        (
            f'id = "a"\nname = "A"\nfeeds = ["*"]\ncontent = "title"\nkey_sha256 = "{"0" * 64}"',
            "partner[a].content: must be 'full' or 'summary', not 'title'",
        ),
        (
            f'id = "a"\nname = "A"\nfeeds = ["*"]\nkey = "x"\nkey_sha256 = "{"0" * 64}"',
            "partner[a].key: unknown key",
        ),
        ('id = "a"\nfeeds = ["*"]', "partner[a].name: missing required key"),
    ],
)
def test_access_toml_problems_name_file_and_key(site: Site, table: str, problem: str) -> None:
    (site.config / "access.toml").write_text(f"[[partner]]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(site.config)
    assert any(line.startswith("access.toml: ") and problem in line for line in e.value.problems)


def test_a_key_pasted_for_its_hash_is_refused_without_being_echoed(site: Site) -> None:
    secret = "s3cr3t-Partner-Key-1234567890"
    (site.config / "access.toml").write_text(
        f'[[partner]]\nid = "a"\nname = "A"\nfeeds = ["*"]\nkey_sha256 = "{secret}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_config(site.config)
    assert e.value.problems
    assert not any(secret in line for line in e.value.problems)


def test_two_partners_cannot_share_a_key_nor_an_id(site: Site) -> None:
    h = "1" * 64
    table = f'[[partner]]\nid = "a"\nname = "A"\nfeeds = ["*"]\nkey_sha256 = "{h}"\n'
    (site.config / "access.toml").write_text(
        table + table.replace('"a"', '"b"') + table, encoding="utf-8"
    )
    with pytest.raises(ConfigError) as e:
        load_config(site.config)
    text = "\n".join(e.value.problems)
    assert "the same key as partner 'a'" in text
    assert "duplicate partner id 'a'" in text


def test_access_and_republish_values_are_checked(site: Site) -> None:
    (site.config / "feeds.toml").write_text(
        '[[feed]]\nname = "x"\ntitle = "X"\nlocal = true\naccess = "friends"\n', encoding="utf-8"
    )
    path = site.config / "sources.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'interval = "15m"', 'interval = "15m"\nrepublish = "some"', 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_config(site.config)
    assert "feeds.toml: feed[x].access: must be 'public' or 'partners', not 'friends'" in (
        e.value.problems
    )
    assert (
        "sources.toml: source[wire].republish: must be 'full', 'summary' or 'title', not 'some'"
    ) in e.value.problems


# --------------------------------------------------------------------------- HTTP


def test_a_partners_feed_without_a_key_is_401_with_both_challenges(web: FlaskClient) -> None:
    for method in (web.get, web.head):
        response = method("/feeds/private-wire.rss")
        assert response.status_code == 401
        challenges = response.headers.getlist("WWW-Authenticate")
        assert [c.split()[0] for c in challenges] == ["Bearer", "Basic"]
        assert "invalid_token" not in challenges[0]
        assert response.headers["Cache-Control"] == "no-store"
        assert b"<rss" not in response.data


def test_unknown_disabled_and_mismatched_keys_are_401(
    web: FlaskClient, keys: dict[str, str]
) -> None:
    for headers in (
        bearer("not-a-key"),
        bearer(keys["gamma"]),  # disabled
        basic("beta", keys["alpha"]),  # the user must be the key's partner
        basic("alpha", ""),
    ):
        response = web.get("/feeds/private-wire.atom", headers=headers)
        assert response.status_code == 401, headers
        assert 'error="invalid_token"' in response.headers.getlist("WWW-Authenticate")[0]
        for key in keys.values():
            assert key.encode() not in response.data
    assert web.get("/feeds/private-wire.atom?key=nope").status_code == 401
    # A wrong key on a public feed is said so too, rather than served the public copy.
    assert web.get("/feeds/everything.rss", headers=bearer("nope")).status_code == 401


def test_a_key_not_granted_a_partners_feed_is_403(web: FlaskClient, keys: dict[str, str]) -> None:
    response = web.get("/feeds/private-wire.json", headers=bearer(keys["beta"]))
    assert response.status_code == 403
    assert b"beta" in response.data and keys["beta"].encode() not in response.data


@pytest.mark.parametrize("how", ["bearer", "basic", "query"])
def test_a_granted_key_reads_the_partners_feed_privately(
    web: FlaskClient, keys: dict[str, str], how: str
) -> None:
    key = keys["alpha"]
    url, headers = "/feeds/private-wire.rss", {}
    if how == "bearer":
        headers = bearer(key)
    elif how == "basic":
        headers = basic("alpha", key)
    else:
        url += f"?key={key}"
    response = web.get(url, headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private, ")
    assert "Authorization" in response.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert key.encode() not in response.data
    assert "key" not in response.headers["Link"]
    parsed = feedparser.parse(response.data)
    assert parsed.feed.title.endswith("Wire, for partners")
    assert parsed.entries and all(e.source.title == "Wire Service" for e in parsed.entries)
    assert b'href="https://feeds.outlet.example/feeds/private-wire.rss"' in response.data
    # Conditional and compressed, like every stored document.
    again = web.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"].startswith("private, ")
    zipped = web.get(url, headers={**headers, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == response.data


def test_a_partner_gets_its_own_variant_of_a_public_feed(
    web: FlaskClient, keys: dict[str, str]
) -> None:
    public = web.get("/feeds/ours.rss")
    assert public.status_code == 200 and not has_full_text(public)  # ours is summaries
    assert public.headers["Vary"] == "Accept, Accept-Encoding, Authorization"
    assert public.headers["Access-Control-Allow-Origin"] == "*"
    assert public.headers["Cache-Control"].startswith("public, ")

    full = web.get("/feeds/ours.rss", headers=bearer(keys["alpha"]))  # alpha reads full text
    assert full.status_code == 200 and has_full_text(full)
    assert full.headers["ETag"] != public.headers["ETag"]
    assert full.headers["Cache-Control"].startswith("private, ")
    assert [e.id for e in feedparser.parse(full.data).entries] == [
        e.id for e in feedparser.parse(public.data).entries
    ]
    # The same public ETag does not validate the partner's copy.
    stale = web.get(
        "/feeds/ours.rss",
        headers={**bearer(keys["alpha"]), "If-None-Match": public.headers["ETag"]},
    )
    assert stale.status_code == 200

    # beta reads summaries of everything (a full public feed).
    assert has_full_text(web.get("/feeds/everything.rss"))
    summary = web.get("/feeds/everything.rss", headers=basic("beta", keys["beta"]))
    assert summary.status_code == 200 and not has_full_text(summary)
    # alpha is not granted everything: the public document, as anyone gets it.
    other = web.get("/feeds/everything.rss", headers=bearer(keys["alpha"]))
    assert other.status_code == 200 and other.data == web.get("/feeds/everything.rss").data
    assert other.headers["Cache-Control"].startswith("public, ")


def test_a_feed_no_partner_reads_does_not_vary_on_authorization(web: FlaskClient) -> None:
    response = web.get("/feeds/humanitarian.atom")
    assert response.status_code == 200
    assert response.headers["Vary"] == "Accept, Accept-Encoding"


def test_partners_feeds_are_not_listed_discoverable_or_their_sources_shown(
    site: Site, web: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    index = web.get("/").data
    assert b"private-wire" not in index and b"/feeds/ours.rss" in index
    # The wire source is only in a partners feed once "everything" no longer takes it.
    (site.config / "feeds.toml").write_text(
        FEEDS_TOML.replace('sources = ["*"]', 'sources = ["un"]'), encoding="utf-8"
    )
    assert state(web.application).watcher.poll() is not None
    sources = web.get("/sources.json").get_json()["sources"]
    assert "wire" not in [s["id"] for s in sources] and "un" in [s["id"] for s in sources]
    assert b"Wire Service" not in web.get("/sources").data


def test_every_variant_is_valid_and_holds_no_key(
    site: Site, web: FlaskClient, keys: dict[str, str]
) -> None:
    for name, key in (("ours", None), ("ours", "alpha"), ("everything", "beta")):
        documents = []
        for ext in ("rss", "atom", "json"):
            response = web.get(f"/feeds/{name}.{ext}", headers=bearer(keys[key]) if key else {})
            assert response.status_code == 200
            for secret in keys.values():
                assert secret.encode() not in response.data
            documents.append((ext, response.data))
        assert validate(documents) == [], (name, key)


def test_variants_of_partners_no_longer_reading_are_removed(
    site: Site, keys: dict[str, str]
) -> None:
    with Store(site.db) as store:
        assert store.has_document("ours", Format.RSS, variant="full")
    (site.config / "access.toml").write_text("", encoding="utf-8")
    assert site.feeds("update", "--force") == 0
    with Store(site.db) as store:
        assert not store.has_document("ours", Format.RSS, variant="full")
        assert store.has_document("ours", Format.RSS)


def test_a_partners_feed_is_not_announced_to_the_hub(site: Site, keys: dict[str, str]) -> None:
    path = site.config / "site.toml"
    path.write_text('hub = "http://127.0.0.1:9/"\n' + path.read_text(encoding="utf-8"))
    path = site.config / "feeds.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("Wire, for", "The wire, for"))
    assert site.feeds("update", "--force") == 0
    with Store(site.db) as store:
        topics = {p.topic for p in store.pending_hub_pings()}
    assert topics  # the public feeds changed with the hub and were announced...
    assert not any("private-wire" in t for t in topics)  # ...the partners feed was not
    with Store(site.db) as store:
        private = store.get_document("private-wire", Format.ATOM)
        public = store.get_document("ours", Format.ATOM)
    assert private is not None and b'rel="hub"' not in private.body  # nor does it name one
    assert public is not None and b'rel="hub"' in public.body


def test_archive_pages_of_a_partners_feed_need_a_key(
    web: FlaskClient, keys: dict[str, str]
) -> None:
    assert web.get("/feeds/private-wire/archive/1.rss").status_code == 401
    keyed = web.get("/feeds/private-wire/archive/1.rss", headers=bearer(keys["alpha"]))
    assert keyed.status_code == 404  # authorised, and no page is full yet


# --------------------------------------------------------------------------- rights


def test_republish_caps_a_source_in_every_feed_variant_and_format(
    site: Site, web: FlaskClient, keys: dict[str, str]
) -> None:
    path = site.config / "sources.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('tags = ["wire"]', 'tags = ["wire"]\nrepublish = "title"', 1)
    text = text.replace('tags = ["un", "humanitarian"]', 'tags = ["un"]\nrepublish = "summary"')
    path.write_text(text, encoding="utf-8")
    assert site.feeds("update", "--force") == 0
    assert state(web.application).watcher.poll() is not None
    variants = 0
    for headers in ({}, basic("beta", keys["beta"]), bearer(keys["alpha"])):
        for name in ("everything", "private-wire"):
            documents = []
            for ext in ("rss", "atom", "json"):
                response = web.get(f"/feeds/{name}.{ext}", headers=headers)
                if response.status_code != 200:
                    continue  # a partners feed asked for by the public or by beta
                documents.append((ext, response.data))
                parsed = feedparser.parse(response.data)
                for entry in parsed.entries:
                    credit = entry.get("source", {}).get("title")
                    text = " ".join(c.value for c in entry.get("content", []))
                    if credit == "Wire Service":  # title only
                        assert html.unescape(entry.get("summary", entry.title)) == entry.title
                        assert not text and not entry.get("enclosures")
                        assert not entry.get("media_content"), entry
                    elif credit == "UN News":  # a summary: plain text, no full text
                        assert not text, entry
                        assert "<" not in entry.get("summary", "")
            if documents:
                variants += 1
                assert validate(documents) == [], (name, headers)
    assert variants == 4  # everything for the public, beta and alpha; private-wire for alpha
    # The outlet's own articles are not capped.
    assert b"content:encoded" in web.get("/feeds/everything.rss").data


# --------------------------------------------------------------------------- logs


def test_keys_are_redacted_from_request_lines() -> None:
    assert (
        redact("GET /feeds/x.rss?key=abc&y=1 HTTP/1.1")
        == "GET /feeds/x.rss?key=REDACTED&y=1 HTTP/1.1"
    )
    assert redact("/x?a=1&KEY=abc") == "/x?a=1&KEY=REDACTED"
    assert redact("/x?monkey=1") == "/x?monkey=1"
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s "%s" %s',
        ("1.2.3.4", "GET /?key=s3 HTTP/1.1", 200),
        None,
    )
    assert RedactKeys().filter(record)
    assert "s3" not in record.getMessage() and "key=REDACTED" in record.getMessage()


def test_procfile_web_revokes_within_seconds_and_logs_no_key(
    site: Site, keys: dict[str, str], tmp_path: Path
) -> None:
    """The Procfile's web: line, run for real: a key in the query string is not in gunicorn's
    access log, and a partner disabled in access.toml is refused within seconds, with no
    restart."""
    log_path = tmp_path / "web.log"
    key = keys["alpha"]
    with log_path.open("wb") as log, procfile_web(site, log) as server:
        base = f"{server}/feeds/private-wire.rss"
        assert httpx.get(f"{base}?key={key}", timeout=2).status_code == 200
        assert httpx.get(base, headers=basic("alpha", key), timeout=2).status_code == 200
        assert httpx.get(base, headers=bearer(key), timeout=2).status_code == 200
        assert httpx.get(base, timeout=2).status_code == 401

        access = site.config / "access.toml"
        text = access.read_text(encoding="utf-8")
        start = text.index('id = "alpha"')
        end = text.index("enabled = true", start)
        access.write_text(
            text[:end] + "enabled = false" + text[end + len("enabled = true") :],
            encoding="utf-8",
        )
        changed = time.monotonic()
        while True:  # every worker re-reads the file within a few seconds
            codes = {httpx.get(f"{base}?key={key}", timeout=2).status_code for _ in range(8)}
            if codes == {401}:
                break
            assert time.monotonic() - changed < 15, codes
            time.sleep(0.5)
    logged = log_path.read_text(encoding="utf-8", errors="replace")
    assert "/feeds/private-wire.rss?key=REDACTED" in logged
    assert " 200 " in logged and " 401 " in logged
    for secret in keys.values():
        assert secret not in logged

"""The one home of each small rule: text cutting and XML-safe text, UTC times, ids, URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feeds import ids, text, times, urls
from feeds.types import Site

SITE = Site(
    title="Outlet",
    link="https://outlet.example/",
    base_url="https://feeds.outlet.example",
    description="",
    language="en",
    articles_dir=__import__("pathlib").Path("."),
)


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("short enough", 80, "short enough"),
        ("exactly ten", 11, "exactly ten"),
        ("one two three four five", 12, "one two…"),  # at a space, ellipsis counted
        ("one two, three four", 11, "one two…"),  # trailing punctuation dropped
        ("supercalifragilistic words", 10, "supercali…"),  # no space: mid-word
        ("a verylongwordthatneverends", 12, "a…"),  # the last space, however early
        ("end of sentence. Next one", 19, "end of sentence…"),
        ("one two", 1, "…"),
    ],
)
def test_cut_at_a_word_within_the_limit(value: str, limit: int, expected: str) -> None:
    assert text.cut(value, limit) == expected
    assert len(text.cut(value, limit)) <= limit


def test_storable_and_publishable_text() -> None:
    raw = "a\x00b\x0bc\tnl\n\x7f\x85\ud800\ufffe\uffffé ش 😀"
    assert text.storable_text(raw) == "abc\tnl\n\x7f\x85é ش 😀"  # DEL, C1: stored as they are
    assert text.xml_text(raw) == "abc\tnl\né ش 😀"  # and never published
    assert text.xml_text(text.storable_text(raw)) == text.xml_text(raw)
    same = "plain text\n"
    assert text.xml_text(same) is same and text.storable_text(same) is same


def test_summaries_keep_what_they_always_were() -> None:
    """300 characters of text at most, then the ellipsis: cut at the last space."""
    words = " ".join(f"word{n:03d}" for n in range(60))  # 479 characters
    summary = text.cut(words, text.SUMMARY_LENGTH)
    assert summary == words[:300].rsplit(" ", 1)[0] + "…"
    assert len(text.cut(words, text.TITLE_FROM_TEXT_LENGTH)) <= 80


def test_utc_whole_seconds_naive_as_utc_and_clamped() -> None:
    beirut = timezone(timedelta(hours=2))
    assert times.utc(datetime(2026, 1, 1, 12, 0, 0, 999, tzinfo=beirut)) == datetime(
        2026, 1, 1, 10, 0, tzinfo=UTC
    )
    assert times.utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    far = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert times.utc(far).year == 9999
    assert times.utcnow().microsecond == 0 and times.utcnow().tzinfo is UTC


def test_date_formats() -> None:
    when = datetime(2024, 5, 1, 10, 0, 30, 5, tzinfo=UTC)
    assert times.rfc822(when) == "Wed, 01 May 2024 10:00:30 GMT"
    assert times.rfc3339(when) == "2024-05-01T10:00:30Z"
    assert times.parse_http_date("Wed, 01 May 2024 10:00:30 GMT") == when.replace(microsecond=0)
    zoneless = "Wed, 01 May 2024 10:00:30 -0000"
    assert times.parse_http_date(zoneless) is None  # not an HTTP date: ignored
    assert times.parse_http_date(zoneless, zoneless_as_utc=True) == when.replace(microsecond=0)
    assert times.parse_http_date("yesterday") is None


def test_ids_published_for_entries_and_any_value() -> None:
    assert ids.item_id(SITE, "wire", "https://wire.example/1") == "https://wire.example/1"
    assert ids.item_id(SITE, "wire", "42") == "tag:outlet.example,2026:wire/42"
    # a global id that is not a valid IRI (white space) keeps its item id, published as an IRI
    assert ids.item_id(SITE, "wire", "urn:x y") == "urn:x y"
    assert ids.iri(SITE, "urn:x y") == "tag:outlet.example,2026:item/urn%3Ax%20y"
    assert ids.iri(SITE, "8F14E45F-CEEA-467F-A0E6-4F1B2C3D5E6F").startswith("urn:uuid:8f14e45f")
    assert ids.stable_id("x" * 600).startswith("sha256:")
    assert ids.stable_id("http://h:99999/") == ids.hashed_id("http://h:99999/")
    assert ids.stable_id("guid-1") == "guid-1"


def test_etag_is_strong_and_follows_the_bytes() -> None:
    assert ids.etag(b"a") == ids.etag(b"a") != ids.etag(b"b")
    assert ids.etag(b"a").startswith('"') and ids.etag(b"a").endswith('"')
    assert len(ids.etag(b"a")) == 42


def test_joining_urls_and_ids() -> None:
    assert urls.join("https://a.example/x/", "y") == "https://a.example/x/y"
    assert urls.join("https://a.example/", "http://[x/") == "http://[x/"
    # ids: extra slashes after the scheme dropped first; an unjoinable one becomes ""
    assert urls.join_id("https://a.example/f", "http:////b.example/1") == "http://b.example/1"
    assert urls.join_id("https://a.example/f/", "2") == "https://a.example/f/2"
    assert urls.join_id("https://a.example/", "http://[x/") == ""


def test_public_url_drops_credentials() -> None:
    assert urls.public_url("https://user:pw@a.example/f") == "https://a.example/f"
    assert urls.public_url("https://a.example/f?u=a@b") == "https://a.example/f?u=a@b"

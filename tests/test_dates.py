"""feeds.parse.dates: dates as upstreams write them, read right or not at all (issue 9).

The fixture tests/fixtures/fidelity/dates.xml holds one item per form (its guid names it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from feeds.parse import parse
from feeds.parse.dates import jalali_to_gregorian, read_date, unreadable_warning

FIDELITY = Path(__file__).parent / "fixtures" / "fidelity"
URL = "https://dates.example/feed"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


EXPECTED = {
    "rfc822": _utc(2024, 1, 1, 7),
    "w3cdtf": _utc(2024, 1, 2, 8),  # dc:date: the updated date, which dates the entry
    "year-first": _utc(2020, 1, 10, 14, 33),  # not 1 November
    "twelve-hour": _utc(2023, 12, 16, 14, 2, 33),  # the PM kept
    "portuguese": _utc(2018, 9, 24, 13),
    "italian": _utc(2022, 11, 16),
    "spanish": _utc(2023, 1, 12, 14, 30),
    "french": _utc(2023, 1, 12, 13, 30),
    "german": _utc(2023, 3, 6, 10),
    "turkish": _utc(2023, 1, 12, 14, 30),
    "arabic": _utc(2023, 1, 15, 10),
    "arabic-levant": _utc(2023, 1, 10),  # كانون الثاني: January
    "persian-gregorian": _utc(2023, 1, 12),
    "persian-solar": _utc(2023, 6, 5, 10, 30),  # ۱۴۰۲/۰۳/۱۵, never year 1402
    "persian-month": _utc(2023, 6, 5),  # ۱۵ خرداد ۱۴۰۲
    "zone-name": _utc(2023, 3, 6, 8),  # CEST
    "colon-offset": _utc(2024, 1, 1, 7),  # "+03:00", which email.utils would ignore
    "unreadable": None,
    "ambiguous": None,  # 10/01/2020: 10 January or 1 October
    "lunar-hijri": None,  # 15 Ramadan 1444: not converted, not published as 1444
    "month-only": None,  # no day
    "fallback-to-updated": _utc(2024, 1, 3),
}


def _dates_feed() -> dict[str, datetime | None]:
    feed = parse((FIDELITY / "dates.xml").read_bytes(), URL)
    return {e.id or "": e.published or e.updated for e in feed.entries}


def test_every_form_of_the_fixture_is_read_right_or_not_at_all() -> None:
    assert _dates_feed() == EXPECTED


def test_unreadable_dates_are_one_warning_naming_a_raw_value() -> None:
    feed = parse((FIDELITY / "dates.xml").read_bytes(), URL)
    assert feed.warnings == (
        "4 entries have a date that cannot be read ('Foo 32, 2020'); "
        "they are dated by when they were first seen",
    )
    # an entry whose other date can be read is dated by it, without a warning of its own
    fallback = next(e for e in feed.entries if e.id == "fallback-to-updated")
    assert fallback.published is None and fallback.updated == _utc(2024, 1, 3)


def test_readable_feeds_have_no_warning() -> None:
    assert parse((FIDELITY / "podcast.xml").read_bytes(), URL).warnings == ()


def test_one_unreadable_date_is_said_in_the_singular() -> None:
    assert unreadable_warning(["  Foo\n 32 "]) == (
        "1 entry has a date that cannot be read ('Foo 32'); it is dated by when it was first seen"
    )
    assert unreadable_warning([]) is None
    assert "…" in (unreadable_warning(["x" * 200, "y"]) or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 01 Jan 2024 10:00:00 GMT", _utc(2024, 1, 1, 10)),
        ("Monday, 1 January 2024 10:00 EST", _utc(2024, 1, 1, 15)),
        ("01 Jan 2024 10:00:00 -0000", _utc(2024, 1, 1, 10)),  # no zone: UTC
        ("2024-01-01", _utc(2024, 1, 1)),
        ("2024-01-01t10:00:00.5z", _utc(2024, 1, 1, 10)),
        ("2024-01-01 10:00:00+0300", _utc(2024, 1, 1, 7)),
        ("01 Sept 2024 10:00 GMT", _utc(2024, 9, 1, 10)),
        ("2023-12-16 02:02:33 PM", _utc(2023, 12, 16, 14, 2, 33)),
        ("16 Dec 2023 2:02 pm GMT+3", _utc(2023, 12, 16, 11, 2)),
        ("13/01/2020", _utc(2020, 1, 13)),
        ("01/13/2020", _utc(2020, 1, 13)),
        ("05.05.2020", _utc(2020, 5, 5)),  # day and month equal: no doubt
        ("24 marzo 2018 10:00 GMT", _utc(2018, 3, 24, 10)),
        ("١٥ يناير ٢٠٢٣", _utc(2023, 1, 15)),  # Arabic-Indic digits
        ("14 Şubat 2023 Salı 10:30", _utc(2023, 2, 14, 10, 30)),
        ("2024년 1월 5일 10:00", _utc(2024, 1, 5, 10)),  # forms feedparser used to read
        ("Πέμ, 12 Ιαν 2023 10:00", _utc(2023, 1, 12, 10)),
        ("12 января 2023 10:00", _utc(2023, 1, 12, 10)),
        ("۱۵ خرداد ۱۴۰۲ ساعت ۱۰:۳۰", _utc(2023, 6, 5, 10, 30)),
        ("10.01.2020", _utc(2020, 1, 10)),  # dots: day first (de, tr, ru, pl)
        ("10/01/2020", None),  # slashes: day and month could be confused
        ("5 3 2024", None),  # and with spaces
        ("2020/13/1", None),  # year first, but no month 13: refused, not swapped
        ("2020.13.01", None),
        ("2024 01 15", _utc(2024, 1, 15)),
        ("15 janvier 2024 10.30.00", _utc(2024, 1, 15, 10, 30)),  # a time with dots
        ("Mon, 15 Jan 2024 10:30:00 +03:00", _utc(2024, 1, 15, 7, 30)),  # near-RFC forms
        ("Mon, 15 Jan 2024 10:30:00 CET", _utc(2024, 1, 15, 9, 30)),
        ("Tues, 5 Sept 2023 10:00:00 GMT", _utc(2023, 9, 5, 10)),
        ("2024-01-01 10:00:00 +0000", _utc(2024, 1, 1, 10)),
        ("10/01/20", None),  # so could the year
        ("1402-03-15", None),  # a Solar Hijri year without Persian text: refused
        ("الخميس 15 يناير 1444", None),  # Arabic (يناير is not Persian): refused too
        ("22 بهمن 1357", _utc(1979, 2, 11)),
        ("22 بهمن 1357 - 10:30", _utc(1979, 2, 11, 10, 30)),
        ("۱ دي ۱۴۰۲", _utc(2023, 12, 22)),  # Dey typed with an Arabic yeh
        ("۱۴۰۲/۱۲/۳۰", None),  # 1402 is not a leap year: no 30 Esfand
        ("December 2023", None),
        ("2024", None),
        ("yesterday", None),
        ("2 hours ago", None),
        ("1700000000", None),
        ("Fri, 31 Feb 2020 10:00:00 GMT", None),
        ("0001-01-01T00:00:00+05:00", None),  # before year 1 in UTC
        ("x" * 101, None),
        ("", None),
        (None, None),
    ],
)
def test_read_date(text: str | None, expected: datetime | None) -> None:
    assert read_date(text) == expected


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [
        ((1300, 1, 1), date(1921, 3, 21)),
        ((1357, 11, 22), date(1979, 2, 11)),
        ((1399, 12, 30), date(2021, 3, 20)),  # a leap year
        ((1400, 1, 1), date(2021, 3, 21)),
        ((1402, 3, 15), date(2023, 6, 5)),
        ((1403, 1, 1), date(2024, 3, 20)),
        ((1403, 12, 30), date(2025, 3, 20)),  # a leap year
        ((1404, 1, 1), date(2025, 3, 21)),
        ((1402, 12, 30), None),
        ((1402, 7, 31), None),  # the second half-year has 30-day months
        ((1402, 13, 1), None),
        ((1299, 1, 1), None),  # outside the years converted
    ],
)
def test_solar_hijri_to_gregorian(jalali: tuple[int, int, int], gregorian: date | None) -> None:
    assert jalali_to_gregorian(*jalali) == gregorian


def test_json_feed_dates_take_the_same_path() -> None:
    feed = parse((FIDELITY / "wordpress.json").read_bytes(), "https://blog.example/feed/json")
    assert [e.published for e in feed.entries] == [
        _utc(2024, 2, 12, 10),
        _utc(2024, 2, 12, 9, 30),  # "12 février 2024 09:30"
        None,
    ]
    assert feed.warnings == (
        "1 entry has a date that cannot be read ('Foo 32, 2020'); "
        "it is dated by when it was first seen",
    )


_PROBE = """
import json, sys
from pathlib import Path
from feeds.parse import parse
feed = parse(Path(sys.argv[1]).read_bytes(), "https://e.example/feed")
print(json.dumps(["dateparser" in sys.modules, len(feed.entries)]))
"""


@pytest.mark.parametrize(
    ("fixture", "needs_dateparser"), [("podcast.xml", False), ("dates.xml", True)]
)
def test_strict_dates_never_reach_dateparser(fixture: str, needs_dateparser: bool) -> None:
    """RFC 822 and ISO dates (nearly all of them) are read without loading dateparser."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(FIDELITY / fixture)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    loaded, entries = json.loads(out)
    assert entries > 0
    assert loaded is needs_dateparser


def test_near_rfc_forms_never_reach_dateparser(tmp_path: Path) -> None:
    """Zone names, "+03:00" offsets, "Sept": common, and read on the strict path."""
    dates = (
        "Mon, 15 Jan 2024 10:30:00 +03:00",
        "Mon, 15 Jan 2024 10:30:00 EEST",
        "Thurs, 7 Sept 2023 10:00:00 GMT",
        "Tues, 5 Sep 2023 10:00:00 CET",
    )
    items = "".join(
        f"<item><guid isPermaLink='false'>{n}</guid><title>t</title><pubDate>{d}</pubDate></item>"
        for n, d in enumerate(dates)
    )
    feed = tmp_path / "near.xml"
    feed.write_text(f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>")
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(feed)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [False, 4]

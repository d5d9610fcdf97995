"""Dates as upstreams write them -> aware datetimes in UTC, or None: never a guessed wrong day.

The only module importing dateparser (loaded on first need). feedparser's own parsed dates
(``*_parsed``) are not used: its parser silently mangles non-English and odd forms
(``2020/1/10`` became 1 November, a trailing ``PM`` was dropped). Every date string, from RSS,
Atom or JSON Feed, is read here from the text the document states.

Decisions:

- Strict forms first, with the standard library only (most dates, read in microseconds):
  RFC 822/1123 as RSS writes them (English day and month names, a numeric zone or a zone name
  RFC 822 defines) through ``email.utils``, and ISO 8601 / W3CDTF with a full date (an
  optional time and offset) through ``datetime.fromisoformat``. Each must match a strict
  pattern first: ``email.utils`` alone is lenient (it ignores a trailing ``PM`` and a
  ``+03:00`` zone).
- Anything else goes to dateparser (a few milliseconds a call, so results are cached per
  process) with
  the locales ``LOCALES`` (Arabic, with the Levantine month names, Turkish, Persian, French,
  Spanish, Portuguese, Italian, German and English; then Russian, Dutch, Polish, Greek,
  Hungarian, Hebrew, Korean, Japanese, Chinese and Indonesian): day, month and year are
  all required ("Dec 2023", "2024", "yesterday", "2 hours ago" and Unix timestamps are not
  dates here); 12-hour times and zone names are read.
- Numeric dates: year first (``2020/1/10``) is year, month, day, and refused when the month
  or the day cannot be one (``2020/13/1``). With dots, day first (``10.01.2020``: the German,
  Turkish, Russian and Polish form; no locale writes month.day.year). With slashes, dashes
  or spaces, day and month in either order (``13/01/2020``, ``01/13/2020``) are read only
  when they cannot be confused: ``10/01/2020`` is refused rather than guessed, and so is a
  date of numbers only with a two-digit year. A numeric date's order never depends on the
  locale that read the previous date.
- Near-RFC 822 forms are read on the strict path too: ``+03:00`` offsets, the zone names
  of ``ZONES`` (CET, EET, MSK, ...), and ``Sept``, ``Tues``, ``Thurs``; an ISO date may have a
  space before its offset. A time written with dots after the year (``2024 10.30``) is read.
- A date without a zone is taken as UTC.
- Years 1300 to 1499 are Solar Hijri years (the Persian calendar), not dates of news: when the
  text is Persian (Persian digits or letters, or a Persian month name) the day is converted to
  the Gregorian calendar (``۱۴۰۲/۰۳/۱۵`` is 5 June 2023, ``۱۵ خرداد ۱۴۰۲`` too); otherwise (a
  lunar Hijri year, say) the date is refused. Never published as year 1402.
- What cannot be read is None; the parsers count the entries left without any date for it and
  say so in one warning (``unreadable_warning``).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from feeds.times import utc

__all__ = ["LOCALES", "jalali_to_gregorian", "read_date", "unreadable_warning"]

# The languages of the region and of the outlet's sources first (Arabic as written in the
# Levant, whose month names include the Gregorian ones), then others whose dates feedparser
# used to read (Korean, Greek, Hungarian) and a few more widely used ones.
LOCALES = (
    *("en", "ar-LB", "tr", "fa", "fr", "es", "pt", "it", "de"),
    *("ru", "nl", "pl", "el", "hu", "he", "ko", "ja", "zh", "id"),
)
MAX_DATE_LENGTH = 100  # longer strings are not dates (and would cost dateparser dearly)
_CACHE_SIZE = 2048

# English names only, whole or abbreviated: "Mar" must not catch Spanish "marzo" or "martes".
_DAY = (
    r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?"
    r"|Sun(?:day)?)"
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
# Zone names that stand for one offset wherever they are written (no IST: India, Israel and
# Ireland; no AST: Arabia and the Atlantic), read on the strict path.
ZONES = {
    "WET": "+0000",
    "WEST": "+0100",
    "BST": "+0100",
    "CET": "+0100",
    "CEST": "+0200",
    "EET": "+0200",
    "EEST": "+0300",
    "MSK": "+0300",
    "TRT": "+0300",
    "IRST": "+0330",
    "PKT": "+0500",
    "SGT": "+0800",
    "HKT": "+0800",
    "JST": "+0900",
    "KST": "+0900",
    "AEST": "+1000",
    "AEDT": "+1100",
    "NZST": "+1200",
    "NZDT": "+1300",
}
_RFC822 = re.compile(
    rf"(?:{_DAY}\s*,?\s*)?[0-9]{{1,2}}\s+{_MONTH}\s+(?:[0-9]{{4}}|[0-9]{{2}})\s+"
    r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"
    r"(?:\s*(?:[+-][0-9]{4}|UT|UTC|GMT|Z|[ECMP][SD]T))?",
    re.IGNORECASE,
)
# What near-RFC 822 dates write differently: "+03:00", a zone name, "Sept", "Tues", "Thurs".
_COLON_OFFSET = re.compile(r"([+-][0-9]{2}):([0-9]{2})$")
_ZONE_NAME = re.compile(r"\b(" + "|".join(ZONES) + r")$", re.IGNORECASE)
_LONG_ABBREVIATION = re.compile(r"\b(Sept|Tues|Thurs)\b", re.IGNORECASE)
_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)?"
    r"(?: ?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?))?)?",
    re.IGNORECASE,
)
# Three numbers separated by "/", "." or "-": which one is the year decides the order; with
# numbers alone, spaces separate them too.
_NUMERIC = re.compile(r"(?<![0-9])([0-9]{1,4})([./-])([0-9]{1,2})[./-]([0-9]{1,4})(?![0-9])")
_SPACED = re.compile(r"\s*([0-9]{1,4})(\s)([0-9]{1,2})\s+([0-9]{1,4})(?![0-9])")
_LETTERS = re.compile(r"[^\W\d_]")
# A time written with dots after the year ("2024 10.30.00"), as several locales do.
_DOTTED_TIME = re.compile(r"(?<=[0-9]{4} )([0-9]{1,2})\.([0-9]{2})(?:\.([0-9]{2}))?(?![0-9.])")
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")

# --------------------------------------------------------------------------- Solar Hijri

# Solar Hijri years 1300-1499 are in the 33-year cycle of the Persian calendar (its leap
# years match the official astronomical calendar over this range).
SOLAR_HIJRI_YEARS = range(1300, 1500)
_LEAP_IN_CYCLE = frozenset({1, 5, 9, 13, 17, 22, 26, 30})
_NOWRUZ_1403 = date(2024, 3, 20)  # 1 Farvardin 1403
_JALALI_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("فروردین",),
            ("اردیبهشت",),
            ("خرداد",),
            ("تیر",),
            ("مرداد", "امرداد"),
            ("شهریور",),
            ("مهر",),
            ("آبان",),
            ("آذر",),
            ("دی",),
            ("بهمن",),
            ("اسفند",),
        ),
        1,
    )
    for name in names
}
# Persian digits, or letters Arabic does not use (پ چ ژ گ, and Persian ک and ی).
_PERSIAN = re.compile("[۰-۹پچژگکی]")
# Month names may be typed with Arabic kaf and yeh: read them as the Persian letters.
_ARABIC_LETTERS = str.maketrans("يك", "یک")
_JALALI_DATE = re.compile(
    r"(?<![0-9])([0-9]{1,2})\s+(" + "|".join(_JALALI_MONTHS) + r")\s+([0-9]{4})(?![0-9])"
)
_TIME = re.compile(r"(?<![0-9])([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?![0-9])")


def _jalali_leap(year: int) -> bool:
    return year % 33 in _LEAP_IN_CYCLE


def jalali_to_gregorian(year: int, month: int, day: int) -> date | None:
    """The Gregorian day of a Solar Hijri date in ``SOLAR_HIJRI_YEARS``; None when there is
    no such day."""
    if year not in SOLAR_HIJRI_YEARS or not 1 <= month <= 12:
        return None
    length = 31 if month <= 6 else 30 if month <= 11 else 30 if _jalali_leap(year) else 29
    if not 1 <= day <= length:
        return None
    nowruz = _NOWRUZ_1403
    for y in range(min(year, 1403), max(year, 1403)):
        nowruz += timedelta(days=365 + _jalali_leap(y)) * (1 if year > 1403 else -1)
    before = (month - 1) * 31 if month <= 7 else 186 + (month - 7) * 30
    return nowruz + timedelta(days=before + day - 1)


def _solar_hijri(value: datetime, text: str) -> datetime | None:
    """A date read with a year in ``SOLAR_HIJRI_YEARS``, converted from the Persian calendar
    when ``text`` is Persian; None otherwise."""
    if not _PERSIAN.search(text):
        return None
    day = jalali_to_gregorian(value.year, value.month, value.day)
    if day is None:
        return None
    return value.replace(year=day.year, month=day.month, day=day.day)


def _jalali_words(text: str) -> datetime | None:
    """A date written with a Persian month name ("۱۵ خرداد ۱۴۰۲ ساعت ۱۰:۳۰"), as UTC."""
    ascii_text = text.translate(_DIGITS).translate(_ARABIC_LETTERS)
    match = _JALALI_DATE.search(ascii_text)
    if match is None:
        return None
    day = jalali_to_gregorian(int(match[3]), _JALALI_MONTHS[match[2]], int(match[1]))
    if day is None:
        return None
    time = _TIME.search(ascii_text, match.end()) or _TIME.search(ascii_text[: match.start()])
    hour, minute, second = (int(time[1]), int(time[2]), int(time[3] or 0)) if time else (0, 0, 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


# --------------------------------------------------------------------------- reading


def read_date(text: str | None) -> datetime | None:
    """The instant ``text`` states, in UTC and whole seconds; None when it states none that
    can be read without guessing (see the module docstring)."""
    if not text:
        return None
    text = " ".join(text.split())
    if not text or len(text) > MAX_DATE_LENGTH:
        return None
    value = _strict(text)
    if value is None:
        value = _lenient(text)
    if value is None:
        return None
    if value.year in SOLAR_HIJRI_YEARS:
        value = _solar_hijri(value, text)
        if value is None:
            return None
    try:
        value.astimezone(UTC)
    except OverflowError:  # "0001-01-01T00:00:00+05:00" is before year 1 in UTC
        return None
    return utc(value)


def _strict(text: str) -> datetime | None:
    """RFC 822/1123 (and its near forms) and ISO 8601 / W3CDTF, standard library only."""
    try:
        if _ISO.fullmatch(text):
            return datetime.fromisoformat(text.upper().replace(" +", "+").replace(" -", "-"))
        rfc = _LONG_ABBREVIATION.sub(lambda m: m[1][:3], text)
        rfc = _COLON_OFFSET.sub(r"\1\2", rfc)
        rfc = _ZONE_NAME.sub(lambda m: ZONES[m[1].upper()], rfc)
        if _RFC822.fullmatch(rfc):
            return parsedate_to_datetime(rfc)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _lenient(text: str) -> datetime | None:
    """Every other form: a Persian month name, else dateparser (see the module docstring)."""
    value = _jalali_words(text)
    if value is not None:
        return value
    text = _DOTTED_TIME.sub(lambda m: f"{m[1]}:{m[2]}:{m[3] or '00'}", text)
    order = _date_order(text.translate(_DIGITS))
    if order == "":
        return None
    try:
        value = _parser(order).get_date_data(text).date_obj
    except Exception:  # dateparser's own bugs on odd input: not a date we can read
        return None
    return value if isinstance(value, datetime) else None


def _date_order(text: str) -> str | None:
    """For a numeric date: "YMD", "DMY" or "MDY"; "" when it cannot be read without guessing
    (day and month could be confused, or cannot be what they stand for); None when there is
    no numeric date (the locale decides)."""
    letters = _LETTERS.search(text) is not None
    match = _NUMERIC.search(text) or (None if letters else _SPACED.match(text))
    if match is None:
        return None
    first, separator, second, last = match.groups()
    if len(first) == 4:
        month, day = int(second), int(last)
        return "YMD" if 1 <= month <= 12 and 1 <= day <= 31 else ""
    if len(first) > 2 or len(last) != 4:
        # A two-digit year could be any of the three; after a month name, numbers like
        # "10.30.00" are a time, which the locale reads.
        return None if letters else ""
    a, b = int(first), int(second)
    if not (1 <= a <= 31 and 1 <= b <= 31) or (a > 12 and b > 12):
        return ""
    if separator == "." and b <= 12:
        return "DMY"
    if a == b or (a > 12 and b <= 12):
        return "DMY"
    if b > 12 and a <= 12:
        return "MDY"
    return ""


_PARSERS = threading.local()  # dateparser's parsers keep state: one set per thread


def _parser(order: str | None) -> Any:
    """A dateparser ``DateDataParser`` for dates in that order (None: the locale's)."""
    parsers: dict[str | None, Any] | None = getattr(_PARSERS, "by_order", None)
    if parsers is None:
        parsers = _PARSERS.by_order = {}
    if order not in parsers:
        from dateparser.date import DateDataParser  # type: ignore[import-untyped]

        settings: dict[str, Any] = {
            "STRICT_PARSING": True,  # day, month and year required
            "PARSERS": ["absolute-time"],
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": "UTC",
            "TO_TIMEZONE": "UTC",
        }
        if order is not None:
            settings["DATE_ORDER"] = order
        # try_previous_locales would make a date's reading depend on the dates read before it
        # in this thread (and so differ between worker processes): every date is read alone.
        parsers[order] = DateDataParser(locales=list(LOCALES), settings=settings)
    return parsers[order]


# --------------------------------------------------------------------------- warnings


def unreadable_warning(values: Sequence[str]) -> str | None:
    """The warning for entries left undated because their dates (``values``, one per entry)
    cannot be read; None when there are none."""
    if not values:
        return None
    shown = " ".join(values[0].split())
    if len(shown) > 60:
        shown = shown[:59] + "…"
    if len(values) == 1:
        return (
            f"1 entry has a date that cannot be read ({shown!r}); "
            "it is dated by when it was first seen"
        )
    return (
        f"{len(values)} entries have a date that cannot be read ({shown!r}); "
        "they are dated by when they were first seen"
    )

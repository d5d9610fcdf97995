"""One home for time: UTC, whole seconds, and the date formats of HTTP and the feed formats.

Every datetime passed between the stages is timezone-aware, in UTC, with no microseconds
(stored times, published dates and HTTP validators then agree to the second). Standard library
only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Now = Callable[[], datetime]  # what tells the time: utcnow, or a test's fixed clock

# The periods of the RSS syndication module (sy:updatePeriod), shortest first; a month is
# taken as 30 days and a year as 365.
SY_PERIODS: tuple[tuple[str, timedelta], ...] = (
    ("hourly", timedelta(hours=1)),
    ("daily", timedelta(days=1)),
    ("weekly", timedelta(weeks=1)),
    ("monthly", timedelta(days=30)),
    ("yearly", timedelta(days=365)),
)


def utc(value: datetime) -> datetime:
    """``value`` in UTC, whole seconds. A naive datetime is taken as UTC (never as local
    time); one within a day of year 1 or 9999 whose offset would leave the calendar becomes
    the nearest representable time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        limit = datetime.min if value.year == datetime.min.year else datetime.max
        return limit.replace(microsecond=0, tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def rfc822(value: datetime) -> str:
    """RSS and HTTP dates, e.g. ``Wed, 01 May 2024 10:00:00 GMT`` (locale-independent)."""
    return format_datetime(utc(value), usegmt=True)


def rfc3339(value: datetime) -> str:
    """Atom and JSON Feed dates, e.g. ``2024-05-01T10:00:00Z``."""
    return utc(value).isoformat().replace("+00:00", "Z")


def parse_http_date(text: str, *, zoneless_as_utc: bool = False) -> datetime | None:
    """An HTTP date (RFC 9110: IMF-fixdate and the obsolete forms) as an aware datetime;
    None when it is not one. A date without a zone ("-0000", asctime) is not a valid HTTP
    date, so None too, unless ``zoneless_as_utc`` (for headers better honoured than ignored,
    such as Retry-After)."""
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC) if zoneless_as_utc else None
    return value

"""The pages in the site's language: message catalogs, text direction and dates.

The one home of Babel and Flask-Babel. The catalogs are ``feeds/translations/<lang>/
LC_MESSAGES/messages.po`` (and the compiled ``.mo`` beside each), made with ``make
translations`` (docs/languages.md). Two users:

- the web pages (``/``, ``/sources``, ``/status``), rendered per request by Flask: ``init_app``
  sets up Flask-Babel with the site's language as the locale of every request;
- the feeds' HTML views, rendered by the clock at publish time, outside any request:
  ``translations`` gives the catalog of a language to the renderer's own template environment
  (``feeds/render/html.py``), and ``format_when`` the dates, through Babel directly.

A language is the site's ``language`` tag (BCP 47, ``ar``, ``ar-LB``, ``en``); a language
Babel does not know is shown in English, left to right. A catalog missing for a language
leaves the text in English (the msgids); its dates and direction are still the language's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.support import NullTranslations, Translations
from flask_babel import Babel

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "TRANSLATIONS",
    "direction",
    "format_when",
    "init_app",
    "languages",
    "locale_name",
    "translations",
]

TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"  # the language of the msgids


@functools.lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    """The Babel locale of a language tag (``ar-LB`` or ``ar_LB``); English when Babel does
    not know it."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LANGUAGE)


def locale_name(language: str) -> str:
    """The locale a language tag is shown in, as Babel names it (``ar_LB``, ``en``)."""
    return str(_locale(language))


def direction(language: str) -> str:
    """``rtl`` for a right-to-left language (Arabic, Hebrew, Persian, Urdu...), else ``ltr``."""
    return "rtl" if _locale(language).text_direction == "rtl" else "ltr"


@functools.lru_cache(maxsize=64)
def translations(language: str) -> NullTranslations:
    """The catalog of a language (``ar_LB`` falls back to ``ar``); the msgids (English) when
    there is none."""
    found = Translations.load(str(TRANSLATIONS), [locale_name(language)], DOMAIN)
    return found


def languages() -> list[str]:
    """The languages with a compiled catalog, and English."""
    found = {path.parent.parent.name for path in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return sorted(found | {DEFAULT_LANGUAGE})


def format_when(when: datetime, language: str) -> str:
    """A date and time as readers of ``language`` write it, in UTC, to the minute:
    "March 5, 2026, 14:07 UTC", "5 مارس 2026، 14:07 UTC". The same for the same input."""
    locale = _locale(language)
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    day = format_date(when, "long", locale=locale)
    time = format_time(when, "HH:mm", tzinfo=UTC, locale=locale)
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", day).replace("{0}", time) + " UTC"


def init_app(app: Any, language: Callable[[], str]) -> None:
    """Flask-Babel for ``app``: every request's locale is ``language()`` (the site's, which a
    config reload may change); templates get ``_``/``gettext``/``ngettext`` and
    ``text_direction``."""
    Babel(
        app,
        locale_selector=lambda: locale_name(language()),
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.globals["text_direction"] = direction

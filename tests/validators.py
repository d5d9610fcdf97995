"""Structural feed validators written from the specifications, strict like the W3C validator.

- RSS 2.0: https://www.rssboard.org/rss-specification (+ the RSS Advisory Board's profile),
  content:encoded, Dublin Core (elements, and dcterms:modified with a W3C-DTF date:
  https://www.dublincore.org/specifications/dublin-core/dcmi-terms/#modified), Media RSS 1.5.1,
  the syndication module, atom:link.
- Atom 1.0: RFC 4287.
- Archived feeds: RFC 5005 (fh:archive, current / prev-archive / next-archive links).
- JSON Feed 1.1: https://www.jsonfeed.org/version/1.1/

Every URL must be a valid absolute URI (RFC 3986: non-ASCII characters, white space,
``"<>\\^`{|}``, a stray "%" and "[" / "]" outside an IPv6 host percent-encoded); Atom's ids
and hrefs, which RFC 4287 types as IRIs, must be valid IRIs (RFC 3987). What the W3C feed
validator reports as warnings on documents of this kind are failures here: an RSS item without
a ``description`` or with ``content:encoded`` before it, an Atom entry with neither ``summary``
nor ``content`` ("Missing textual content"), several Atom entries with the same ``updated``.

Each ``validate_*`` function takes the document's bytes and returns a list of problems, one
human-readable line each (``"where: what"``); an empty list means the document is valid.
``same_ids`` checks that the three formats of one feed carry the same item ids in the same order,
``same_urls`` that they publish each item's link and enclosures under the same URLs (Atom's
enclosure links are JSON Feed's attachments and then its ``image`` unless one of them is it;
RSS's one enclosure is one of them).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
MEDIA = "http://search.yahoo.com/mrss/"
SY = "http://purl.org/rss/1.0/modules/syndication/"
FH = "http://purl.org/syndication/history/1.0"
XML = "http://www.w3.org/XML/1998/namespace"
XHTML = "http://www.w3.org/1999/xhtml"

JSON_FEED_1_1 = "https://jsonfeed.org/version/1.1"

# --------------------------------------------------------------------------- shared checks

# BCP 47 (RFC 5646) language tags, the well-formed syntax (grandfathered tags aside).
_LANGUAGE_TAG = re.compile(
    r"^(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language (+ extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?$"  # private use
    r"|^x(?:-[a-z0-9]{1,8})+$",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_MIME_TYPE = re.compile(r"^[a-zA-Z0-9!#$&^_.+-]+/[a-zA-Z0-9!#$&^_.+-]+(?:\s*;.*)?$")
# RFC 822 (as RSS uses it): optional weekday, 4-digit year, GMT or a numeric zone.
_RFC822 = re.compile(
    r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d{2}):(\d{2})(?::(\d{2}))? (GMT|[+-]\d{4})$"
)
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# C0 controls other than tab/newline/carriage return, DEL and the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HTML_ELEMENTS = _words(
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo big blink "
    "blockquote body br button canvas caption center cite code col colgroup dd del details "
    "dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form frame "
    "frameset h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label legend "
    "li link main map mark marquee menu meta meter nav noscript object ol optgroup option "
    "output p param picture pre progress q rp rt ruby s samp script section select small "
    "source span strike strong style sub summary sup svg table tbody td template textarea "
    "tfoot th thead time title tr track tt u ul var video wbr"
)
_MARKUP = re.compile(r"</?(" + "|".join(_HTML_ELEMENTS) + r")(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ESCAPED_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-f]+);", re.IGNORECASE)
_UNSAFE_ELEMENTS = {"script", "embed", "object", "applet", "frame", "frameset", "iframe", "meta"}
_URL_ATTRIBUTES = {"href", "src", "poster", "cite", "action", "background", "longdesc"}


# RFC 3986 (URI) and RFC 3987 (IRI), Appendix A of each: the absolute forms.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT_ENCODED = r"%[0-9A-Fa-f]{2}"
# ucschar and iprivate (RFC 3987 section 2.2)
_UCSCHAR = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef" + "".join(
    f"{chr(plane << 16)}-{chr((plane << 16) | 0xFFFD)}" for plane in range(1, 15)
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"


def _absolute_grammar(unicode: str, private: str) -> re.Pattern[str]:
    unreserved = f"[{_UNRESERVED}{unicode}]"
    pchar = f"(?:[{_UNRESERVED}{unicode}{_SUB_DELIMS}:@]|{_PCT_ENCODED})"
    segment_nz = f"{pchar}+"
    userinfo = f"(?:[{_UNRESERVED}{unicode}{_SUB_DELIMS}:]|{_PCT_ENCODED})*"
    reg_name = f"(?:{unreserved}|[{_SUB_DELIMS}]|{_PCT_ENCODED})*"
    host = rf"(?P<literal>\[[^\[\]/?#@]*\])|{reg_name}"
    authority = f"(?:{userinfo}@)?(?:{host})(?::[0-9]*)?"
    hier_part = (
        f"//{authority}(?:/{pchar}*)*"  # authority and path-abempty
        f"|/(?:{segment_nz}(?:/{pchar}*)*)?"  # path-absolute
        f"|{segment_nz}(?:/{pchar}*)*"  # path-rootless
        "|"  # path-empty
    )
    query = f"(?:{pchar}|[/?{private}])*"
    fragment = f"(?:{pchar}|[/?])*"
    return re.compile(
        rf"[A-Za-z][A-Za-z0-9+.\-]*:(?:{hier_part})(?:\?{query})?(?:#{fragment})?",
        re.DOTALL,
    )


_URI = _absolute_grammar("", "")
_IRI = _absolute_grammar(_UCSCHAR, _IPRIVATE)
_IP_FUTURE = re.compile(r"v[0-9A-Fa-f]+\.[" + _UNRESERVED + _SUB_DELIMS + r":]+")
# What no URI may hold as it is, for the messages.
_NOT_URI_CHAR = re.compile(f"[^{_UNRESERVED}{_SUB_DELIMS}:/?#\\[\\]@%]|%(?![0-9A-Fa-f]{{2}})")


def uri_problem(value: str | None, *, iri: bool = False) -> str | None:
    """Why ``value`` is not an absolute URI (RFC 3986; ``iri``: an IRI, RFC 3987), or None.

    A URI holds ASCII only: an IRI's other characters, white space, ``"<>\\^`{|}``, a "%"
    that starts no %XX, and "[" or "]" anywhere but around an IPv6 host must be
    percent-encoded; an IRI may hold the non-ASCII letters (ucschar) as they are.
    """
    text = value or ""
    kind = "IRI" if iri else "URI"
    found = (_IRI if iri else _URI).fullmatch(text)
    if found is None:
        bad = _NOT_URI_CHAR.search(text)
        if bad is not None and not (iri and _IRI_CHAR.fullmatch(bad.group())):
            return f"is not a valid {kind} ({bad.group()!r} must be percent-encoded): {value!r}"
        outside_host = _HOST_LITERAL.sub(r"\1", text, count=1)
        for char in "[]":
            if char in outside_host:
                return f"is not a valid {kind} ({char!r} outside an IPv6 host): {value!r}"
        if text.count("#") > 1:
            return f"is not a valid {kind} (a second '#'): {value!r}"
        return f"is not a valid absolute {kind}: {value!r}"
    literal = found.group("literal")
    if literal is not None and not _is_ip_literal(literal[1:-1]):
        return f"is not a valid {kind} (not an IPv6 address in brackets): {value!r}"
    return None


_IRI_CHAR = re.compile(f"[{_UCSCHAR}{_IPRIVATE}]")
_HOST_LITERAL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?)\[[^\[\]/?#@]*\]")


def _is_ip_literal(host: str) -> bool:
    if _IP_FUTURE.fullmatch(host):
        return True
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def is_absolute_http(url: str | None) -> bool:
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:  # "[" not around an IP address
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in (url or "")


def url_problem(value: str | None) -> str | None:
    """Why ``value`` is not an absolute http(s) URL that is a valid URI, or None."""
    if not is_absolute_http(value):
        return f"is not an absolute URL: {value!r}"
    return uri_problem(value)


def is_absolute_iri(value: str | None) -> bool:
    """An absolute IRI: a scheme and something after it, no white space."""
    value = value or ""
    if not _SCHEME.match(value) or re.search(r"\s", value):
        return False
    return len(value) > value.index(":") + 1


def iri_problem(value: str | None) -> str | None:
    """Why ``value`` is not an absolute IRI (RFC 3987), or None."""
    if not is_absolute_iri(value):
        return f"is not an absolute IRI: {value!r}"
    return uri_problem(value, iri=True)


def is_language_tag(value: str | None) -> bool:
    return bool(value) and bool(_LANGUAGE_TAG.match(value or ""))


def rfc822_problem(value: str | None) -> str | None:
    """Why ``value`` is not an RFC 822 date as RSS wants it, or None."""
    text = (value or "").strip()
    match = _RFC822.match(text)
    if not match:
        return f"not an RFC 822 date with a 4-digit year and GMT or numeric zone: {value!r}"
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return f"not a real date: {value!r}"
    weekday = match.group(1)
    if weekday and parsed.strftime("%a") != weekday:
        return f"wrong day of the week: {value!r}"
    return None


def rfc3339_problem(value: str | None) -> str | None:
    text = value or ""
    if not _RFC3339.match(text):
        return f"not an RFC 3339 date-time: {value!r}"
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return f"not a real date-time: {value!r}"
    return None


def text_problem(value: str | None) -> str | None:
    """Why a plain-text value (a title) is not plain text, or None."""
    text = value or ""
    if _CONTROL.search(text):
        return f"contains control characters: {text!r}"
    if _MARKUP.search(text):
        return f"contains HTML markup: {text!r}"
    if _ESCAPED_ENTITY.search(text):
        return f"contains an escaped entity (double-escaped?): {text!r}"
    return None


class _HtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSAFE_ELEMENTS:
            self.problems.append(f"contains <{tag}>")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler {name}")
            elif name in _URL_ATTRIBUTES or name == "srcset":
                urls = (
                    [c.split()[0] for c in value.split(",") if c.split()]
                    if name == "srcset"
                    else [value]
                )
                for url in urls:
                    if url.lower().startswith(("javascript:", "vbscript:", "data:text/html")):
                        self.problems.append(f"<{tag} {name}> is a script URL: {url!r}")
                    elif not _SCHEME.match(url):
                        self.problems.append(f"<{tag} {name}> is a relative URL: {url!r}")
            elif name == "style" and re.search(
                r"expression\s*\(|url\s*\(\s*['\"]?javascript", value, re.I
            ):
                self.problems.append(f"<{tag}> has a scripted style")

    handle_startendtag = handle_starttag


def html_problems(markup: str | None) -> list[str]:
    """Unsafe or non-portable HTML: scripts, event handlers, relative or script URLs."""
    checker = _HtmlChecker()
    checker.feed(markup or "")
    checker.close()
    return checker.problems


def _parse_xml(data: bytes, problems: list[str]) -> Any:
    if not data.startswith(b"<?xml "):
        problems.append("document: no XML declaration at the very start")
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append("document: starts with a byte order mark")
    declaration = re.match(rb"<\?xml[^>]*encoding=['\"]([A-Za-z0-9._-]+)['\"]", data)
    if declaration and declaration.group(1).lower() not in (b"utf-8",):
        problems.append(f"document: encoding is {declaration.group(1).decode()!r}, not UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(f"document: not UTF-8: {e}")
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        problems.append(f"document: not well-formed XML: {e}")
        return None


def _count(parent: Any, tag: str) -> int:
    return len(parent.findall(tag))


def _single(parent: Any, tag: str, where: str, problems: list[str], required: bool) -> Any:
    """The one ``tag`` child; a problem when missing (if required) or repeated."""
    found = parent.findall(tag)
    name = _qname(tag)
    if not found and required:
        problems.append(f"{where}: missing <{name}>")
    if len(found) > 1:
        problems.append(f"{where}: {len(found)} <{name}> elements, at most one allowed")
    return found[0] if found else None


def _qname(tag: str) -> str:
    prefixes = {
        ATOM: "atom",
        CONTENT: "content",
        DC: "dc",
        DCTERMS: "dcterms",
        MEDIA: "media",
        SY: "sy",
        FH: "fh",
    }
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return f"{prefixes.get(uri, uri)}:{local}"
    return tag


def _xml_lang_problems(root: Any) -> list[str]:
    problems = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        lang = el.get(f"{{{XML}}}lang")
        if lang is not None and lang != "" and not is_language_tag(lang):
            problems.append(f"<{_qname(el.tag)}>: xml:lang {lang!r} is not a language tag")
    return problems


def _history_problems(parent: Any, link_tag: str, where: str) -> list[str]:
    """RFC 5005: fh:archive, current/prev-archive/next-archive links (Atom-style links)."""
    problems = []
    archives = parent.findall(f"{{{FH}}}archive")
    complete = parent.findall(f"{{{FH}}}complete")
    links: dict[str, list[str]] = {}
    for link in parent.findall(link_tag):
        links.setdefault(link.get("rel") or "alternate", []).append(link.get("href") or "")
    for rel in ("current", "prev-archive", "next-archive"):
        hrefs = links.get(rel, [])
        if len(hrefs) > 1:
            problems.append(f"{where}: {len(hrefs)} rel={rel!r} links, at most one allowed")
        for href in hrefs:
            if problem := url_problem(href):
                problems.append(f"{where}: rel={rel!r} link {problem}")
    if len(archives) > 1:
        problems.append(f"{where}: {len(archives)} <fh:archive> elements")
    for archive in archives:
        if len(archive) or (archive.text or "").strip():
            problems.append(f"{where}: <fh:archive> must be empty")
    if archives and not links.get("current"):
        problems.append(f"{where}: archive document without a rel='current' link")
    if archives and not links.get("self"):
        problems.append(f"{where}: archive document without a self link")
    if archives and complete:
        problems.append(f"{where}: both <fh:archive> and <fh:complete>")
    if complete and (links.get("prev-archive") or links.get("next-archive")):
        problems.append(f"{where}: a complete feed (fh:complete) with archive links")
    if not archives and links.get("next-archive"):
        problems.append(f"{where}: next-archive link in a document without <fh:archive>")
    if not archives and links.get("current"):
        problems.append(f"{where}: rel='current' link in a document without <fh:archive>")
    return problems


# --------------------------------------------------------------------------- RSS 2.0

_RSS_CHANNEL_SINGLE = _words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "generator docs cloud ttl image rating textInput skipHours skipDays"
)
_RSS_ITEM_SINGLE = _words("title link description author comments guid pubDate source")
_SY_PERIODS = {"hourly", "daily", "weekly", "monthly", "yearly"}
_MEDIUMS = {"image", "audio", "video", "document", "executable"}
_EMAIL_AUTHOR = re.compile(r"^[^@\s()]+@[^@\s()]+\.[^@\s()]+(?: \(.+\))?$")


def validate_rss(data: bytes) -> list[str]:
    problems: list[str] = []
    root = _parse_xml(data, problems)
    if root is None:
        return problems
    if root.tag != "rss":
        return [*problems, f"document: root element is <{_qname(root.tag)}>, not <rss>"]
    if root.get("version") != "2.0":
        problems.append(f"rss: version is {root.get('version')!r}, not '2.0'")
    channels = root.findall("channel")
    if len(channels) != 1:
        return [*problems, f"rss: {len(channels)} <channel> elements, exactly one required"]
    channel = channels[0]
    where = "channel"
    for tag in _RSS_CHANNEL_SINGLE:
        _single(channel, tag, where, problems, required=tag in ("title", "link", "description"))
    title = channel.findtext("title")
    link = channel.findtext("link")
    if title is not None:
        if not title.strip():
            problems.append(f"{where}: empty <title>")
        elif problem := text_problem(title):
            problems.append(f"{where}: <title> {problem}")
    if link is not None and (problem := url_problem(link)):
        problems.append(f"{where}: <link> {problem}")
    if (
        channel.find("description") is not None
        and not (channel.findtext("description") or "").strip()
    ):
        problems.append(f"{where}: empty <description>")
    language = channel.findtext("language")
    if language is not None and not is_language_tag(language):
        problems.append(f"{where}: <language> {language!r} is not a language tag")
    for tag in ("pubDate", "lastBuildDate"):
        value = channel.findtext(tag)
        if value is not None and (problem := rfc822_problem(value)):
            problems.append(f"{where}: <{tag}> {problem}")
    for tag in ("docs",):
        value = channel.findtext(tag)
        if value is not None and (problem := url_problem(value)):
            problems.append(f"{where}: <{tag}> {problem}")
    for tag in ("managingEditor", "webMaster"):
        value = channel.findtext(tag)
        if value is not None and not _EMAIL_AUTHOR.match(value.strip()):
            problems.append(f"{where}: <{tag}> is not an e-mail address: {value!r}")
    ttl = channel.findtext("ttl")
    if ttl is not None and not (ttl.strip().isdigit() and int(ttl) >= 0):
        problems.append(f"{where}: <ttl> is not a whole number of minutes: {ttl!r}")
    problems += _rss_image_problems(channel, title, link)
    problems += _syndication_problems(channel, ttl)
    problems += _rss_atom_link_problems(channel, where)
    problems += _history_problems(channel, f"{{{ATOM}}}link", where)
    for tag in (f"{{{SY}}}updatePeriod", f"{{{SY}}}updateFrequency", f"{{{SY}}}updateBase"):
        _single(channel, tag, where, problems, required=False)

    guids: list[str] = []
    for index, item in enumerate(channel.findall("item"), 1):
        problems += _rss_item_problems(item, f"item[{index}]", guids)
    for guid, count in Counter(guids).items():
        if count > 1:
            problems.append(f"channel: guid {guid!r} used by {count} items")
    problems += _xml_lang_problems(root)
    return problems


def _rss_image_problems(channel: Any, title: str | None, link: str | None) -> list[str]:
    image = channel.find("image")
    if image is None:
        return []
    problems = []
    for tag in ("url", "title", "link"):
        _single(image, tag, "channel/image", problems, required=True)
    url = image.findtext("url")
    if url is not None and (problem := url_problem(url)):
        problems.append(f"channel/image: <url> {problem}")
    if image.find("title") is not None and image.findtext("title") != title:
        problems.append("channel/image: <title> differs from the channel's title")
    if image.find("link") is not None and image.findtext("link") != link:
        problems.append("channel/image: <link> differs from the channel's link")
    for tag, limit in (("width", 144), ("height", 400)):
        value = image.findtext(tag)
        if value is not None and not (value.isdigit() and 0 < int(value) <= limit):
            problems.append(f"channel/image: <{tag}> must be a number from 1 to {limit}")
    return problems


def _syndication_problems(channel: Any, ttl: str | None) -> list[str]:
    problems = []
    period = channel.findtext(f"{{{SY}}}updatePeriod")
    frequency = channel.findtext(f"{{{SY}}}updateFrequency")
    if period is not None and period not in _SY_PERIODS:
        problems.append(
            f"channel: <sy:updatePeriod> {period!r} is not one of {sorted(_SY_PERIODS)}"
        )
    if frequency is not None and not (frequency.isdigit() and int(frequency) >= 1):
        problems.append(f"channel: <sy:updateFrequency> {frequency!r} is not a whole number >= 1")
    if (
        ttl is not None
        and ttl.isdigit()
        and period in _SY_PERIODS
        and frequency is not None
        and frequency.isdigit()
        and int(frequency) >= 1
    ):
        minutes = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}
        every = minutes[period] / int(frequency)
        if not (int(ttl) <= every < 2 * int(ttl)):
            problems.append(f"channel: sy says every {every:g} min but <ttl> says {ttl} min")
    return problems


def _rss_atom_link_problems(channel: Any, where: str) -> list[str]:
    problems = []
    links = channel.findall(f"{{{ATOM}}}link")
    selves = [link for link in links if link.get("rel") == "self"]
    if not selves:
        problems.append(f"{where}: missing <atom:link rel='self'>")
    if len(selves) > 1:
        problems.append(f"{where}: {len(selves)} self links")
    for link in selves:
        if not link.get("type"):
            problems.append(f"{where}: self <atom:link> has no type")
    for link in links:
        href = link.get("href")
        if href is None:
            problems.append(f"{where}: <atom:link> without href")
        elif problem := url_problem(href):
            problems.append(f"{where}: <atom:link rel={link.get('rel')!r}> href {problem}")
        if link.get("type") is not None and not _MIME_TYPE.match(link.get("type")):
            problems.append(f"{where}: <atom:link> type {link.get('type')!r} is not a MIME type")
    hubs = [link for link in links if link.get("rel") == "hub"]
    if hubs and not selves:
        problems.append(f"{where}: a WebSub hub link needs a self link")
    return problems


def _rss_item_problems(item: Any, where: str, guids: list[str]) -> list[str]:
    problems: list[str] = []
    for tag in _RSS_ITEM_SINGLE:
        _single(item, tag, where, problems, required=False)
    _single(item, f"{{{CONTENT}}}encoded", where, problems, required=False)
    _single(item, f"{{{DC}}}language", where, problems, required=False)
    title = item.findtext("title")
    description = item.findtext("description")
    if not (title or "").strip() and not (description or "").strip():
        problems.append(f"{where}: neither a title nor a description")
    # The W3C validator's warnings, failures here: an item without a <description>, and
    # content:encoded before it (readers that take the first text would show the HTML).
    children = [child.tag for child in item if isinstance(child.tag, str)]
    encoded = f"{{{CONTENT}}}encoded"
    if "description" not in children:
        problems.append(f"{where}: no <description>")
    elif encoded in children and children.index(encoded) < children.index("description"):
        problems.append(f"{where}: <content:encoded> before <description>")
    if title is not None and (problem := text_problem(title)):
        problems.append(f"{where}: <title> {problem}")
    link = item.findtext("link")
    if link is not None and (problem := url_problem(link)):
        problems.append(f"{where}: <link> {problem}")
    comments = item.findtext("comments")
    if comments is not None and (problem := url_problem(comments)):
        problems.append(f"{where}: <comments> {problem}")
    guid = item.find("guid")
    if guid is not None:
        value = guid.text or ""
        permalink = guid.get("isPermaLink", "true")
        if permalink not in ("true", "false"):
            problems.append(f"{where}: guid isPermaLink is {permalink!r}, not 'true' or 'false'")
        if not value.strip():
            problems.append(f"{where}: empty <guid>")
        elif permalink == "true" and (problem := url_problem(value)):
            problems.append(
                f"{where}: guid {value!r} is a permalink (isPermaLink true or absent) "
                f"but {problem.removeprefix('is ')}"
            )
        guids.append(value)
    pub_date = item.findtext("pubDate")
    if pub_date is not None and (problem := rfc822_problem(pub_date)):
        problems.append(f"{where}: <pubDate> {problem}")
    problems += _modified_problems(item, pub_date, where)
    for author in item.findall("author"):
        if not _EMAIL_AUTHOR.match((author.text or "").strip()):
            problems.append(f"{where}: <author> without an e-mail address: {author.text!r}")
    for category in item.findall("category"):
        if not (category.text or "").strip():
            problems.append(f"{where}: empty <category>")
    enclosures = item.findall("enclosure")
    if len(enclosures) > 1:
        problems.append(f"{where}: {len(enclosures)} enclosures, RSS allows one")
    for enclosure in enclosures:
        url, length, type_ = enclosure.get("url"), enclosure.get("length"), enclosure.get("type")
        if problem := url_problem(url):
            problems.append(f"{where}: enclosure url {problem}")
        if length is None or not length.isdigit():
            problems.append(f"{where}: enclosure length is missing or not an integer: {length!r}")
        if not type_ or not _MIME_TYPE.match(type_):
            problems.append(f"{where}: enclosure type is missing or not a MIME type: {type_!r}")
    source = item.find("source")
    if source is not None:
        if problem := url_problem(source.get("url")):
            problems.append(f"{where}: <source> url {problem}")
        if not (source.text or "").strip():
            problems.append(f"{where}: empty <source>")
    for encoded in item.findall(f"{{{CONTENT}}}encoded"):
        if not (encoded.text or "").strip():
            problems.append(f"{where}: empty <content:encoded>")
        problems += [f"{where}: <content:encoded> {p}" for p in html_problems(encoded.text)]
    language = item.findtext(f"{{{DC}}}language")
    if language is not None and not is_language_tag(language):
        problems.append(f"{where}: <dc:language> {language!r} is not a language tag")
    problems += _media_problems(item, where)
    return problems


def _modified_problems(item: Any, pub_date: str | None, where: str) -> list[str]:
    """``dcterms:modified``: at most one, a W3C-DTF date and time (RFC 3339 with a zone, as
    consumers read it), not before the item's pubDate."""
    problems: list[str] = []
    modified = _single(item, f"{{{DCTERMS}}}modified", where, problems, required=False)
    if modified is None:
        return problems
    if problem := rfc3339_problem(modified.text):
        return [*problems, f"{where}: <dcterms:modified> {problem}"]
    if pub_date is not None and rfc822_problem(pub_date) is None:
        changed = datetime.fromisoformat((modified.text or "").replace("Z", "+00:00"))
        if changed < parsedate_to_datetime(pub_date.strip()):
            problems.append(f"{where}: <dcterms:modified> {modified.text} is before <pubDate>")
    return problems


def _media_problems(item: Any, where: str) -> list[str]:
    problems = []
    contents = item.findall(f"{{{MEDIA}}}content") + item.findall(
        f"{{{MEDIA}}}group/{{{MEDIA}}}content"
    )
    for content in contents:
        url = content.get("url")
        if url is None and content.find(f"{{{MEDIA}}}player") is None:
            problems.append(f"{where}: <media:content> without url or media:player")
        elif url is not None and (problem := url_problem(url)):
            problems.append(f"{where}: <media:content> url {problem}")
        medium = content.get("medium")
        if medium is not None and medium not in _MEDIUMS:
            problems.append(
                f"{where}: <media:content> medium {medium!r} is not one of {sorted(_MEDIUMS)}"
            )
        type_ = content.get("type")
        if type_ is not None and not _MIME_TYPE.match(type_):
            problems.append(f"{where}: <media:content> type {type_!r} is not a MIME type")
        for attribute in ("width", "height", "fileSize", "bitrate"):
            value = content.get(attribute)
            if value is not None and not value.isdigit():
                problems.append(f"{where}: <media:content> {attribute} {value!r} is not an integer")
    for el in item.iter(f"{{{MEDIA}}}title", f"{{{MEDIA}}}description"):
        type_ = el.get("type", "plain")
        if type_ not in ("plain", "html"):
            problems.append(f"{where}: <{_qname(el.tag)}> type {type_!r} is not plain or html")
        if type_ == "plain" and (problem := text_problem(el.text)):
            problems.append(f"{where}: <{_qname(el.tag)}> {problem}")
    for parent in contents:
        for tag in ("title", "description"):
            _single(parent, f"{{{MEDIA}}}{tag}", f"{where}/media:content", problems, required=False)
    for el in item.iter(f"{{{MEDIA}}}thumbnail"):
        if problem := url_problem(el.get("url")):
            problems.append(f"{where}: <media:thumbnail> url {problem}")
        for attribute in ("width", "height"):
            value = el.get(attribute)
            if value is not None and not value.isdigit():
                problems.append(
                    f"{where}: <media:thumbnail> {attribute} {value!r} is not an integer"
                )
    for el in item.iter(f"{{{MEDIA}}}credit"):
        if el.get("scheme") is not None and iri_problem(el.get("scheme")):
            problems.append(f"{where}: <media:credit> scheme {el.get('scheme')!r} is not a URI")
        if not (el.text or "").strip():
            problems.append(f"{where}: empty <media:credit>")
    return problems


# --------------------------------------------------------------------------- Atom 1.0

_TEXT_TYPES = {"text", "html", "xhtml"}


def validate_atom(data: bytes) -> list[str]:
    problems: list[str] = []
    root = _parse_xml(data, problems)
    if root is None:
        return problems
    if root.tag != f"{{{ATOM}}}feed":
        return [*problems, f"document: root element is <{_qname(root.tag)}>, not <atom:feed>"]
    where = "feed"
    a = f"{{{ATOM}}}"
    for tag in ("id", "title", "updated"):
        _single(root, a + tag, where, problems, required=True)
    for tag in ("subtitle", "rights", "generator", "icon", "logo"):
        _single(root, a + tag, where, problems, required=False)
    problems += _atom_common(root, where, feed_level=True)
    problems += _history_problems(root, a + "link", where)
    links = root.findall(a + "link")
    if not any(link.get("rel") == "self" for link in links):
        problems.append(f"{where}: missing <link rel='self'>")
    for tag in ("icon", "logo"):
        value = root.findtext(a + tag)
        if value is not None and (problem := url_problem(value) or iri_problem(value)):
            problems.append(f"{where}: <{tag}> {problem}")
    generator = root.find(a + "generator")
    if generator is not None and generator.get("uri") and iri_problem(generator.get("uri")):
        problems.append(f"{where}: <generator> uri {iri_problem(generator.get('uri'))}")
    feed_has_author = bool(root.findall(a + "author"))

    ids: list[str] = []
    updates: Counter[str] = Counter()
    for index, entry in enumerate(root.findall(a + "entry"), 1):
        here = f"entry[{index}]"
        for tag in ("id", "title", "updated"):
            _single(entry, a + tag, here, problems, required=True)
        for tag in ("published", "rights", "summary", "content", "source"):
            _single(entry, a + tag, here, problems, required=False)
        problems += _atom_common(entry, here, feed_level=False)
        if entry.findtext(a + "id") is not None:
            ids.append(entry.findtext(a + "id"))
        source = entry.find(a + "source")
        source_has_author = source is not None and bool(source.findall(a + "author"))
        if not (feed_has_author or entry.findall(a + "author") or source_has_author):
            problems.append(f"{here}: no author (and the feed has none)")
        content = entry.find(a + "content")
        if content is None and entry.find(a + "summary") is None:
            # The W3C validator's "Missing textual content" warning: a failure here.
            problems.append(f"{here}: neither <summary> nor <content> (no textual content)")
        updated = entry.findtext(a + "updated")
        if updated is not None:
            updates[_instant(updated)] += 1
        alternates = [
            link
            for link in entry.findall(a + "link")
            if link.get("rel", "alternate") == "alternate"
        ]
        if content is None and not alternates:
            problems.append(f"{here}: neither <content> nor an alternate link")
        if content is not None:
            problems += _atom_content_problems(entry, content, here)
        if source is not None:
            for tag in ("id", "title", "updated"):
                _single(source, a + tag, f"{here}/source", problems, required=True)
            problems += _atom_common(source, f"{here}/source", feed_level=True)
    for value, count in Counter(ids).items():
        if count > 1:
            problems.append(f"feed: entry id {value!r} used by {count} entries")
    # The W3C validator warns of entries with the same atom:updated: a failure here.
    for value, count in updates.items():
        if count > 1:
            problems.append(f"feed: {count} entries have the same <updated> {value}")
    problems += _xml_lang_problems(root)
    return problems


def _instant(value: str) -> str:
    """An RFC 3339 date as the instant it names (in UTC), or the text when it is none."""
    try:
        return (
            datetime.fromisoformat(value.strip().replace("Z", "+00:00")).astimezone(UTC).isoformat()
        )
    except ValueError:
        return value


def _atom_common(el: Any, where: str, feed_level: bool) -> list[str]:
    """Checks shared by feed, entry and source: id, dates, text constructs, people, links."""
    a = f"{{{ATOM}}}"
    problems: list[str] = []
    for id_el in el.findall(a + "id"):
        if (id_el.text or "") != (id_el.text or "").strip():
            problems.append(f"{where}: <id> is not an absolute IRI: {id_el.text!r}")
        elif problem := iri_problem(id_el.text):
            problems.append(f"{where}: <id> {problem}")
    for tag in ("updated", "published"):
        for date in el.findall(a + tag):
            if problem := rfc3339_problem(date.text):
                problems.append(f"{where}: <{tag}> {problem}")
    for tag in ("title", "subtitle", "summary", "rights"):
        for text in el.findall(a + tag):
            problems += _atom_text_problems(text, f"{where}/{tag}", is_title=tag == "title")
    for tag in ("author", "contributor"):
        for person in el.findall(a + tag):
            names = person.findall(a + "name")
            if len(names) != 1 or not (names[0].text or "").strip():
                problems.append(f"{where}: <{tag}> needs exactly one non-empty <name>")
            uri = person.findtext(a + "uri")
            if uri is not None and (problem := iri_problem(uri)):
                problems.append(f"{where}: <{tag}> uri {problem}")
            email = person.findtext(a + "email")
            if email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", email):
                problems.append(f"{where}: <{tag}> email is not an e-mail address: {email!r}")
    for category in el.findall(a + "category"):
        if not category.get("term"):
            problems.append(f"{where}: <category> without a term")
    alternates: Counter[tuple[str, str]] = Counter()
    for link in el.findall(a + "link"):
        href, rel = link.get("href"), link.get("rel", "alternate")
        if href is None:
            problems.append(f"{where}: <link> without href")
        elif problem := iri_problem(href):
            problems.append(f"{where}: <link rel={rel!r}> href {problem}")
        if link.get("type") is not None and not _MIME_TYPE.match(link.get("type")):
            problems.append(f"{where}: <link> type {link.get('type')!r} is not a MIME type")
        if link.get("hreflang") is not None and not is_language_tag(link.get("hreflang")):
            problems.append(
                f"{where}: <link> hreflang {link.get('hreflang')!r} is not a language tag"
            )
        length = link.get("length")
        if length is not None and not length.isdigit():
            problems.append(f"{where}: <link> length {length!r} is not an integer")
        if rel == "alternate":
            alternates[(link.get("type", ""), link.get("hreflang", ""))] += 1
        if rel == "enclosure" and (length is None or not link.get("type")):
            problems.append(f"{where}: enclosure link {href!r} without length and type")
    for (type_, hreflang), count in alternates.items():
        if count > 1:
            problems.append(
                f"{where}: {count} alternate links with type={type_!r} hreflang={hreflang!r}"
            )
    return problems


def _atom_text_problems(el: Any, where: str, is_title: bool) -> list[str]:
    type_ = el.get("type", "text")
    if type_ not in _TEXT_TYPES:
        return [f"{where}: type {type_!r} is not text, html or xhtml"]
    return _atom_typed_problems(el, type_, where, plain_check=is_title)


def _atom_typed_problems(el: Any, type_: str, where: str, plain_check: bool) -> list[str]:
    problems = []
    children = [c for c in el if isinstance(c.tag, str)]
    if type_ in ("text", "html") and children:
        problems.append(f"{where}: type {type_!r} must be (escaped) text, not child elements")
    if type_ == "xhtml" and (len(children) != 1 or children[0].tag != f"{{{XHTML}}}div"):
        problems.append(f"{where}: type 'xhtml' needs exactly one xhtml:div child")
    if type_ == "text" and plain_check and (problem := text_problem(el.text)):
        problems.append(f"{where}: {problem}")
    if type_ == "html":
        problems += [f"{where}: {p}" for p in html_problems(el.text)]
    return problems


def _atom_content_problems(entry: Any, content: Any, where: str) -> list[str]:
    problems = []
    type_ = content.get("type", "text")
    src = content.get("src")
    if src is not None:
        if problem := iri_problem(src):
            problems.append(f"{where}: <content> src {problem}")
        if entry.find(f"{{{ATOM}}}summary") is None:
            problems.append(f"{where}: <content src> without a <summary>")
        if len(content) or (content.text or "").strip():
            problems.append(f"{where}: <content src> must be empty")
        return problems
    if type_ in _TEXT_TYPES:
        return _atom_typed_problems(content, type_, f"{where}/content", plain_check=False)
    if not _MIME_TYPE.match(type_):
        problems.append(f"{where}: <content> type {type_!r} is not text/html/xhtml or MIME type")
    elif (
        not type_.endswith("xml")
        and not type_.startswith("text/")
        and entry.find(f"{{{ATOM}}}summary") is None
    ):
        problems.append(f"{where}: base64 <content> without a <summary>")
    return problems


# --------------------------------------------------------------------------- JSON Feed 1.1

_JSON_TOP = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url",
    "icon", "favicon", "authors", "language", "expired", "hubs", "items",
}  # fmt: skip
_JSON_ITEM = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "tags", "language",
    "attachments",
}  # fmt: skip
_JSON_ATTACHMENT = {"url", "mime_type", "title", "size_in_bytes", "duration_in_seconds"}


def validate_json_feed(data: bytes) -> list[str]:
    problems: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append("document: starts with a byte order mark")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        return [*problems, f"document: not UTF-8: {e}"]
    except json.JSONDecodeError as e:
        return [*problems, f"document: not JSON: {e}"]
    if not isinstance(doc, dict):
        return [*problems, "document: top level is not an object"]
    if doc.get("version") != JSON_FEED_1_1:
        problems.append(f"feed: version is {doc.get('version')!r}, not {JSON_FEED_1_1!r}")
    title = doc.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append("feed: title is required (a non-empty string)")
    elif problem := text_problem(title):
        problems.append(f"feed: title {problem}")
    problems += _json_keys(doc, _JSON_TOP, "feed")
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        problems += _json_url(doc, key, "feed")
    for key in ("description", "user_comment"):
        if key in doc and not isinstance(doc[key], str):
            problems.append(f"feed: {key} is not a string")
    if "expired" in doc and not isinstance(doc["expired"], bool):
        problems.append("feed: expired is not a boolean")
    problems += _json_language(doc, "feed")
    problems += _json_authors(doc, "feed")
    hubs = doc.get("hubs")
    if hubs is not None:
        if not isinstance(hubs, list):
            problems.append("feed: hubs is not an array")
        else:
            for i, hub in enumerate(hubs, 1):
                if not isinstance(hub, dict) or not isinstance(hub.get("type"), str):
                    problems.append(f"feed: hubs[{i}] needs a type string")
                    continue
                problems += _json_url(hub, "url", f"feed.hubs[{i}]", required=True)
    items = doc.get("items")
    if not isinstance(items, list):
        return [*problems, "feed: items is required (an array)"]
    ids: list[str] = []
    for index, item in enumerate(items, 1):
        where = f"item[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id.strip():
            problems.append(f"{where}: id is required (a non-empty string): {item_id!r}")
        else:
            ids.append(item_id)
        problems += _json_keys(item, _JSON_ITEM, where)
        problems += _json_source_urls(item, where)
        html_value, text_value = item.get("content_html"), item.get("content_text")
        if html_value is None and text_value is None:
            problems.append(f"{where}: needs content_html or content_text")
        for key in ("content_html", "content_text", "summary", "title"):
            if key in item and not isinstance(item[key], str):
                problems.append(f"{where}: {key} is not a string")
        if isinstance(html_value, str):
            problems += [f"{where}: content_html {p}" for p in html_problems(html_value)]
        if isinstance(item.get("title"), str) and (problem := text_problem(item["title"])):
            problems.append(f"{where}: title {problem}")
        for key in ("url", "external_url", "image", "banner_image"):
            problems += _json_url(item, key, where)
        for key in ("date_published", "date_modified"):
            if key in item and (
                problem := rfc3339_problem(item[key] if isinstance(item[key], str) else None)
            ):
                problems.append(f"{where}: {key} {problem}")
        tags = item.get("tags")
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(t, str) for t in tags)
        ):
            problems.append(f"{where}: tags is not an array of strings")
        problems += _json_language(item, where)
        problems += _json_authors(item, where)
        attachments = item.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, list):
                problems.append(f"{where}: attachments is not an array")
            else:
                for i, attachment in enumerate(attachments, 1):
                    here = f"{where}.attachments[{i}]"
                    if not isinstance(attachment, dict):
                        problems.append(f"{here}: not an object")
                        continue
                    problems += _json_url(attachment, "url", here, required=True)
                    mime = attachment.get("mime_type")
                    if not isinstance(mime, str) or not _MIME_TYPE.match(mime):
                        problems.append(f"{here}: mime_type is required (a MIME type): {mime!r}")
                    for key in ("size_in_bytes", "duration_in_seconds"):
                        value = attachment.get(key)
                        if value is not None and (
                            isinstance(value, bool)
                            or not isinstance(value, int | float)
                            or value < 0
                        ):
                            problems.append(f"{here}: {key} is not a non-negative number")
                    problems += _json_keys(attachment, _JSON_ATTACHMENT, here)
    for value, count in Counter(ids).items():
        if count > 1:
            problems.append(f"feed: item id {value!r} used by {count} items")
    return problems


def _json_source_urls(item: dict[str, Any], where: str) -> list[str]:
    """The URLs of this service's ``_source`` / ``_sources`` extensions: URLs like the rest."""
    problems = []
    sources = item.get("_sources")
    credited = [item.get("_source"), *(sources if isinstance(sources, list) else [])]
    for i, source in enumerate(credited):
        if isinstance(source, dict) and "url" in source:
            here = f"{where}._source" if i == 0 else f"{where}._sources[{i}]"
            problems += _json_url(source, "url", here)
    return problems


def _json_keys(obj: dict[str, Any], known: set[str], where: str) -> list[str]:
    problems = []
    for key in obj:
        if key == "author":
            problems.append(f"{where}: 'author' is JSON Feed 1.0; 1.1 uses 'authors'")
        elif key not in known and not key.startswith("_"):
            problems.append(f"{where}: unknown key {key!r} (extensions start with '_')")
    return problems


def _json_url(obj: dict[str, Any], key: str, where: str, required: bool = False) -> list[str]:
    if key not in obj:
        return [f"{where}: {key} is required"] if required else []
    value = obj[key]
    if not isinstance(value, str):
        return [f"{where}: {key} is not an absolute URL: {value!r}"]
    if problem := url_problem(value):
        return [f"{where}: {key} {problem}"]
    return []


def _json_language(obj: dict[str, Any], where: str) -> list[str]:
    if "language" in obj and not (
        isinstance(obj["language"], str) and is_language_tag(obj["language"])
    ):
        return [f"{where}: language {obj['language']!r} is not a language tag"]
    return []


def _json_authors(obj: dict[str, Any], where: str) -> list[str]:
    authors = obj.get("authors")
    if authors is None:
        return []
    if not isinstance(authors, list):
        return [f"{where}: authors is not an array"]
    problems = []
    for i, author in enumerate(authors, 1):
        here = f"{where}.authors[{i}]"
        if not isinstance(author, dict):
            problems.append(f"{here}: not an object")
            continue
        if not any(isinstance(author.get(k), str) and author[k] for k in ("name", "url", "avatar")):
            problems.append(f"{here}: needs at least one of name, url, avatar")
        for key in ("url", "avatar"):
            problems += _json_url(author, key, here)
        for key in author:
            if key not in ("name", "url", "avatar") and not key.startswith("_"):
                problems.append(f"{here}: unknown key {key!r}")
    return problems


# --------------------------------------------------------------------------- all three


def item_ids(rss: bytes, atom: bytes, json_feed: bytes) -> tuple[list[str], list[str], list[str]]:
    rss_ids = [i.findtext("guid") or "" for i in etree.fromstring(rss).findall("channel/item")]
    atom_ids = [
        e.findtext(f"{{{ATOM}}}id") or ""
        for e in etree.fromstring(atom).findall(f"{{{ATOM}}}entry")
    ]
    json_ids = [str(i.get("id")) for i in json.loads(json_feed)["items"]]
    return rss_ids, atom_ids, json_ids


def item_urls(
    rss: bytes, atom: bytes, json_feed: bytes
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Each item's link and then enclosure URLs, in each format: RSS's one enclosure, Atom's
    enclosure links, JSON Feed's attachments and its ``image`` (unless an attachment is it)."""
    rss_urls = [
        (i.findtext("link") or "", *(e.get("url") or "" for e in i.findall("enclosure")))
        for i in etree.fromstring(rss).findall("channel/item")
    ]
    atom_urls = []
    for entry in etree.fromstring(atom).findall(f"{{{ATOM}}}entry"):
        links = entry.findall(f"{{{ATOM}}}link")
        alternate = [k.get("href") or "" for k in links if k.get("rel", "alternate") == "alternate"]
        enclosures = [k.get("href") or "" for k in links if k.get("rel") == "enclosure"]
        atom_urls.append((alternate[0] if alternate else "", *enclosures))
    json_urls = []
    for item in json.loads(json_feed)["items"]:
        attached = [a.get("url", "") for a in item.get("attachments", [])]
        image = item.get("image")
        if image is not None and image not in attached:
            attached.append(image)
        json_urls.append((item.get("url", ""), *attached))
    return rss_urls, atom_urls, json_urls


def same_urls(rss: bytes, atom: bytes, json_feed: bytes) -> list[str]:
    """Problems when an item's link or enclosure URLs differ between the formats: the same URL
    must be published the same way everywhere. RSS's one enclosure is one of the others'."""
    rss_urls, atom_urls, json_urls = item_urls(rss, atom, json_feed)
    problems = []
    for index, (r, a, j) in enumerate(zip(rss_urls, atom_urls, json_urls, strict=False), 1):
        if a != j or r[:1] != a[:1] or not set(r[1:]) <= set(a[1:]) or (a[1:] and not r[1:]):
            problems.append(f"item[{index}]: URLs differ: RSS {r}, Atom {a}, JSON {j}")
    return problems


def same_ids(rss: bytes, atom: bytes, json_feed: bytes) -> list[str]:
    """Problems when the three formats do not carry the same item ids in the same order."""
    rss_ids, atom_ids, json_ids = item_ids(rss, atom, json_feed)
    problems = []
    if atom_ids != rss_ids:
        problems.append(f"ids: Atom {atom_ids} != RSS {rss_ids}")
    if json_ids != rss_ids:
        problems.append(f"ids: JSON {json_ids} != RSS {rss_ids}")
    return problems


def validate(documents: Iterable[tuple[str, bytes]]) -> list[str]:
    """Validate ``(format, bytes)`` pairs ("rss", "atom", "json") and check their ids agree."""
    validators = {"rss": validate_rss, "atom": validate_atom, "json": validate_json_feed}
    bodies = dict(documents)
    problems = [f"{fmt}: {p}" for fmt, body in bodies.items() for p in validators[fmt](body)]
    if not problems and {"rss", "atom", "json"} <= bodies.keys():
        problems += same_ids(bodies["rss"], bodies["atom"], bodies["json"])
        problems += same_urls(bodies["rss"], bodies["atom"], bodies["json"])
    return problems

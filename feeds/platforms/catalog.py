"""The platforms' published feed rules, each written from the platform's own documentation
(the ``sources`` of each platform; docs/platforms.md says what each rule checks and why).

Only what a platform states as a requirement or as a number is a rule here; advice without a
measure ("titles should be specific") is left to editors. Sizes in "MB" are read as millions
of bytes, the stricter reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from feeds.platforms.rules import (
    Rule,
    channel_has,
    channel_text_at_most,
    document_size,
    guid_permalink,
    https_urls,
    image_present,
    image_size,
    item_count,
    item_has,
    item_size,
    language_with_region,
    publication_age,
    title_length,
)
from feeds.types import Format

__all__ = ["PLATFORMS", "Platform"]

XML = (Format.RSS, Format.ATOM)  # what the platforms take: RSS, and Atom where they say so


@dataclass(frozen=True)
class Platform:
    name: str  # as `feeds check --platform` takes it
    title: str
    sources: tuple[str, ...]  # the documentation the rules are written from
    rules: tuple[Rule, ...]


GOOGLE_NEWS = Platform(
    name="google-news",
    title="Google News",
    sources=(
        "https://support.google.com/news/publisher-center/answer/9545420",
        "https://support.google.com/news/publisher-center/answer/9545414",
    ),
    rules=(
        document_size("feed-size", 2_000_000, XML, "Google News reads 2 MB per feed"),
        item_size("item-size", 1_000_000, "Google News reads 1 MB per article"),
        item_count("item-count", most=60, says="Google News reads 60 new articles per fetch"),
        item_has("guid", ["guid"], "Google News tells articles apart by their guid"),
        guid_permalink("guid-permalink", "Google News"),
    ),
)

MSN = Platform(
    name="msn",
    title="MSN",
    sources=(
        "https://support.microsoft.com/en-us/msn/partner-hub/msn-feed-setup-and-configuration",
        "https://support.microsoft.com/en-us/topic/"
        "msn-feed-item-metadata-requirements-0114c19c-36bb-4fef-8322-4a1ed6888329",
        "https://helpcenter.microsoftstart.com/kb/feed-specifications",
    ),
    rules=(
        document_size("feed-size", 10_000_000, XML, "MSN reads feeds of 10 MB at most"),
        https_urls("https", "MSN takes HTTPS feeds and media only"),
        item_has(
            "required",
            ["guid", "title", "pubDate", "content:encoded", "link"],
            "MSN requires an article's id, title, published date, body and link",
        ),
        title_length(
            "title-length",
            least=20,
            most=150,
            says="MSN wants more than 20 and at most 150 characters",
        ),
        publication_age(
            "age", 365, "MSN ingests items published in the past, less than 365 days ago"
        ),
        image_present("image", "MSN publishes articles without an image only by hand"),
        image_size(
            "image-size", largest_side=720, says="MSN wants at least 720 px in height or width"
        ),
    ),
)

FLIPBOARD = Platform(
    name="flipboard",
    title="Flipboard",
    sources=(
        "https://about.flipboard.com/rss-spec/",
        "https://flipboard.helpshift.com/hc/en/1-flipboard/faq/1023-resubmit-an-rss-feed/",
    ),
    rules=(
        channel_has(
            "channel", ["title", "link", "description", "language"], "Flipboard asks for it"
        ),
        item_has(
            "required",
            ["title", "link", "description", "pubDate", "guid", "dc:creator"],
            "Flipboard asks for it in every item",
        ),
        item_count("item-count", least=20, says="Flipboard wants the 20 most recent at least"),
        image_present("image", "Flipboard wants an image per article"),
        image_size(
            "image-size",
            smallest_side=500,
            says="Flipboard wants an image whose smallest side is 500 px at least",
        ),
    ),
)

APPLE_NEWS = Platform(
    name="apple-news",
    title="Apple News",
    sources=("https://support.apple.com/guide/news-publisher/apdc2c7520ff/icloud",),
    rules=(
        channel_has("channel", ["title", "language", "link"], "Apple News requires it"),
        language_with_region("language", "Apple News wants the language with its locale"),
        item_has("required", ["title", "link", "description"], "Apple News requires it"),
        title_length(
            "title-length", most=60, says="Apple News: titles should be 15 to 60 characters"
        ),
    ),
)

SMARTNEWS = Platform(
    name="smartnews",
    title="SmartNews",
    sources=(
        "https://publishers.smartnews.com/hc/en-us/articles/"
        "360036526213-SmartFormat-Specification-Version-2-1",
        "https://publishers.smartnews.com/hc/en-us/articles/56500436151065",
        "https://publishers.smartnews.com/hc/ja/articles/360036526213",
    ),
    rules=(
        document_size("feed-size", 1_000_000, XML, "SmartNews recommends 1 MB per file at most"),
        channel_has(
            "channel",
            ["title", "link", "description", "pubDate", "language"],
            "SmartFormat requires it",
        ),
        channel_text_at_most(
            "description-length",
            "description",
            30,
            "SmartFormat wants a short description of 30 characters or less",
        ),
        item_has("required", ["title", "link"], "SmartFormat requires it"),
    ),
)

PLATFORMS = {p.name: p for p in (GOOGLE_NEWS, MSN, FLIPBOARD, APPLE_NEWS, SMARTNEWS)}

"""Config loading: the shipped config, every class of problem, durations, env, docs honesty."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from feeds import config as config_module
from feeds.config import config_fingerprint, is_slug, load_config, parse_duration
from feeds.errors import ConfigError
from feeds.types import ContentMode

ROOT = Path(__file__).resolve().parent.parent

SITE = """\
title = "Test Outlet"
link = "https://outlet.example/"
base_url = "https://feeds.outlet.example/"
description = "Test"
language = "en"
articles = "articles"
"""

SOURCES = """\
[[source]]
id = "wire-one"
url = "https://wire.example/feed.xml"
title = "Wire One"
tags = ["wire", "humanitarian"]
interval = "15m"

[[source]]
id = "outlet-two"
url = "https://outlet-two.example/rss"
title = "Outlet Two"
tags = ["outlet"]
"""

FEEDS = """\
[[feed]]
name = "everything"
title = "Everything"
local = true
sources = ["*"]
"""


def write(tmp_path: Path, site: str = SITE, sources: str = SOURCES, feeds: str = FEEDS) -> Path:
    (tmp_path / "articles").mkdir(exist_ok=True)
    for name, text in (("site.toml", site), ("sources.toml", sources), ("feeds.toml", feeds)):
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(config_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_dir, environ or {})
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def one_problem(config_dir: Path, environ: dict[str, str] | None = None) -> str:
    found = problems(config_dir, environ)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- shipped config


def test_shipped_config_loads() -> None:
    config = load_config(ROOT / "config", {})
    site = config.site
    assert site.title
    assert site.language == "en-GB"  # with its region, as Apple News asks
    assert site.base_url == "http://127.0.0.1:8000"
    assert site.articles_dir == (ROOT / "content" / "articles").resolve()
    assert site.fetch.user_agent.startswith("feeds/")
    assert "(+http://127.0.0.1:8000)" in site.fetch.user_agent
    assert 6 <= len(config.sources) <= 10
    names = {feed.name for feed in config.feeds}
    assert {"everything", "ours", "wires", "humanitarian"} <= names
    everything = config.feed("everything")
    assert everything is not None and everything.local is True
    assert config.source_ids_for(everything) == tuple(s.id for s in config.sources)
    wires = config.feed("wires")
    assert wires is not None and wires.sources == ("tag:wire",)
    assert config.source_ids_for(wires)
    assert any(feed.include or feed.exclude for feed in config.feeds)
    for source in config.sources:
        assert timedelta(minutes=15) <= source.interval <= timedelta(hours=2)


def test_minimal_config_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), {})
    site = config.site
    assert site.base_url == "https://feeds.outlet.example"  # no trailing slash
    assert site.articles_dir == (tmp_path / "articles").resolve()
    assert site.copyright == ""
    assert site.articles_interval == timedelta(seconds=30)
    assert site.fetch.user_agent == "feeds/0.1.0 (+https://feeds.outlet.example)"
    assert site.fetch.allow_private_addresses is False
    wire = config.source("wire-one")
    assert wire is not None and wire.tags == ("wire", "humanitarian")
    assert wire.interval == timedelta(minutes=15) and wire.enabled
    outlet = config.source("outlet-two")
    assert outlet is not None and outlet.interval == timedelta(minutes=30)
    feed = config.feeds[0]
    assert feed.limit == 50 and feed.content is ContentMode.FULL and feed.max_age is None
    assert feed.max_bytes == 2_000_000  # Google News' 2 MB per feed


def test_full_feed_options(tmp_path: Path) -> None:
    feeds = """\
[[feed]]
name = "topic"
title = "Topic"
description = "About a topic"
local = ["humanitarian", "aid"]
sources = ["tag:humanitarian", "outlet-two"]
limit = 1000
max_bytes = 1_000_000
include = ['\\bgaza\\b']
exclude = ["quiz"]
max_age = "2d"
content = "summary"
"""
    (feed,) = load_config(write(tmp_path, feeds=feeds), {}).feeds
    assert feed.local == ("humanitarian", "aid")
    assert feed.sources == ("tag:humanitarian", "outlet-two")
    assert feed.include == (r"\bgaza\b",) and feed.exclude == ("quiz",)
    assert feed.max_age == timedelta(days=2)
    assert feed.content is ContentMode.SUMMARY and feed.limit == 1000
    assert feed.max_bytes == 1_000_000


# --------------------------------------------------------------------------- one problem each


def test_bad_source_url(tmp_path: Path) -> None:
    sources = SOURCES.replace("https://wire.example/feed.xml", "ftp://x")
    assert one_problem(write(tmp_path, sources=sources)) == (
        "sources.toml: source[wire-one].url: not an absolute http(s) URL: 'ftp://x'"
    )


@pytest.mark.parametrize(
    "url", ["https://", "wire.example/feed", "http://host:99999/", "https://a b/"]
)
def test_more_bad_urls(tmp_path: Path, url: str) -> None:
    sources = SOURCES.replace("https://wire.example/feed.xml", url)
    assert one_problem(write(tmp_path, sources=sources)) == (
        f"sources.toml: source[wire-one].url: not an absolute http(s) URL: {url!r}"
    )


def test_unknown_source(tmp_path: Path) -> None:
    feeds = FEEDS.replace('"*"', '"afp"').replace("everything", "wires")
    assert one_problem(write(tmp_path, feeds=feeds)) == (
        "feeds.toml: feed[wires].sources: unknown source 'afp'"
    )


def test_unknown_tag(tmp_path: Path) -> None:
    feeds = FEEDS.replace('"*"', '"tag:gaza"').replace("everything", "topic")
    assert one_problem(write(tmp_path, feeds=feeds)) == (
        "feeds.toml: feed[topic].sources: no source has tag 'gaza'"
    )


@pytest.mark.parametrize(
    ("fetch", "expected"),
    [
        ("deadline = 0", "site.toml: fetch.deadline: must be a positive number"),
        ('deadline = "30"', "site.toml: fetch.deadline: must be a positive number"),
        ("max_bytes = -1", "site.toml: fetch.max_bytes: must be a positive integer, not -1"),
        ("max_bytes = 1.5", "site.toml: fetch.max_bytes: must be an integer, not a number"),
        ("concurrency = 0", "site.toml: fetch.concurrency: must be between 1 and 256, not 0"),
        (
            "max_redirects = true",
            "site.toml: fetch.max_redirects: must be an integer, not a boolean",
        ),
        (
            'allow_private_addresses = "yes"',
            "site.toml: fetch.allow_private_addresses: must be true or false, not a string",
        ),
        ("user_agent = 7", "site.toml: fetch.user_agent: must be a string, not an integer"),
        ("timeout = 3", "site.toml: fetch.timeout: unknown key"),
        (
            'allow_addresses = ["169.254.169.254", "metadata"]',
            "site.toml: fetch.allow_addresses: not an IP address or network: 'metadata'",
        ),
        (
            'allow_addresses = "169.254.169.254"',
            "site.toml: fetch.allow_addresses: must be a list of non-empty IP addresses or "
            "networks",
        ),
    ],
)
def test_fetch_problems(tmp_path: Path, fetch: str, expected: str) -> None:
    assert one_problem(write(tmp_path, site=SITE + "[fetch]\n" + fetch + "\n")) == expected


def test_fetch_not_a_table(tmp_path: Path) -> None:
    site = SITE.replace('title = "Test Outlet"', 'fetch = 3\ntitle = "Test Outlet"')
    assert one_problem(write(tmp_path, site=site)) == (
        "site.toml: fetch: must be a table, not an integer"
    )


def test_fetch_settings(tmp_path: Path) -> None:
    site = SITE + (
        '[fetch]\nuser_agent = "Bot/1 (+https://x.example)"\ndeadline = 2.5\nmax_bytes = 1000\n'
        "concurrency = 2\nmax_redirects = 0\nallow_private_addresses = true\n"
        'allow_addresses = ["169.254.169.254", "fd00:ec2::/64"]\n'
    )
    fetch = load_config(write(tmp_path, site=site), {}).site.fetch
    assert fetch.user_agent == "Bot/1 (+https://x.example)"
    assert (fetch.deadline, fetch.max_bytes, fetch.concurrency, fetch.max_redirects) == (
        2.5,
        1000,
        2,
        0,
    )
    assert fetch.allow_private_addresses is True
    assert fetch.allow_addresses == ("169.254.169.254", "fd00:ec2::/64")


def test_missing_articles_dir(tmp_path: Path) -> None:
    site = SITE.replace('articles = "articles"', 'articles = "../nowhere"')
    expected = f"site.toml: articles: directory not found: {(tmp_path / '../nowhere').resolve()}"
    assert one_problem(write(tmp_path, site=site)) == expected


def test_toml_syntax_error(tmp_path: Path) -> None:
    site = 'title = "x"\nlink = "https://x.example/"\nbase_url = \n'
    assert one_problem(write(tmp_path, site=site)) == (
        "site.toml: line 3, column 12: Invalid value"
    )


def test_toml_syntax_error_at_end(tmp_path: Path) -> None:
    found = one_problem(write(tmp_path, feeds='[[feed]]\nname = "x'))
    assert found == "feeds.toml: line 2, column 10: Unterminated string"


@pytest.mark.parametrize("missing", ["sources.toml", "feeds.toml", "site.toml"])
def test_missing_file(tmp_path: Path, missing: str) -> None:
    write(tmp_path)
    (tmp_path / missing).unlink()
    assert f"{missing}: missing file" in problems(tmp_path)


def test_empty_sources_file_is_fine(tmp_path: Path) -> None:
    feeds = FEEDS.replace('sources = ["*"]\n', "")
    config = load_config(write(tmp_path, sources="", feeds=feeds), {})
    assert config.sources == ()


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (SITE.replace('title = "Test Outlet"\n', ""), "site.toml: title: missing required key"),
        (SITE.replace('"Test Outlet"', '""'), "site.toml: title: must not be empty"),
        (SITE.replace('"Test Outlet"', "3"), "site.toml: title: must be a string, not an integer"),
        (SITE + "colour = 1\n", "site.toml: colour: unknown key"),
        (
            SITE.replace('"en"', '"english please"'),
            "site.toml: language: not a language tag such as 'en' or 'ar-LB': 'english please'",
        ),
        (
            SITE + 'articles_interval = "soon"\n',
            "site.toml: articles_interval: not a duration: 'soon' (use a number with a unit: "
            "s, m, h, d or w, e.g. '15m', '1h30m')",
        ),
        (
            SITE.replace('link = "https://outlet.example/"', 'link = "/home"'),
            "site.toml: link: not an absolute http(s) URL: '/home'",
        ),
    ],
)
def test_site_problems(tmp_path: Path, site: str, expected: str) -> None:
    assert one_problem(write(tmp_path, site=site)) == expected


SOURCE_PROBLEMS = [
    (
        'id = "wire-one"',
        'id = "Wire One"',
        "source[Wire One].id: not a slug (up to 100 lower-case letters, digits, '.', '_', '-'): "
        "'Wire One'",
    ),
    ('id = "wire-one"\n', "", "source[1].id: missing required key"),
    ('id = "wire-one"', "id = 5", "source[1].id: must be a string, not an integer"),
    ('title = "Wire One"\n', "", "source[wire-one].title: missing required key"),
    (
        'tags = ["wire", "humanitarian"]',
        'tags = "wire"',
        "source[wire-one].tags: must be a list of non-empty strings (tags)",
    ),
    (
        'tags = ["wire", "humanitarian"]',
        'tags = ["wire", ""]',
        "source[wire-one].tags: must be a list of non-empty strings (tags)",
    ),
    (
        'interval = "15m"',
        'interval = "30s"',
        "source[wire-one].interval: must be at least 1m: '30s'",
    ),
    (
        'interval = "15m"',
        "interval = 15",
        "source[wire-one].interval: must be a duration string such as '15m', not an integer",
    ),
    (
        'interval = "15m"',
        'interval = "15 minutes"',
        "source[wire-one].interval: not a duration: "
        "'15 minutes' (use a number with a unit: s, m, h, d or w, e.g. '15m', '1h30m')",
    ),
    (
        'interval = "15m"',
        'interval = "15m"\nenabled = "no"',
        "source[wire-one].enabled: must be true or false, not a string",
    ),
    (
        'interval = "15m"',
        'interval = "15m"\netag = "x"',
        "source[wire-one].etag: unknown key; did you mean 'tags'?",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), SOURCE_PROBLEMS)
def test_source_problems(tmp_path: Path, old: str, new: str, expected: str) -> None:
    sources = SOURCES.replace(old, new, 1)
    # Keep feeds.toml independent of the source under test.
    found = problems(write(tmp_path, sources=sources))
    assert found == [f"sources.toml: {expected}"]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "sources.toml",
            'interval = "15m"',
            'intreval = "15m"',
            "sources.toml: source[wire-one].intreval: unknown key; did you mean 'interval'?",
        ),
        (
            "site.toml",
            'language = "en"',
            'langauge = "en"',
            "site.toml: langauge: unknown key; did you mean 'language'?",
        ),
        (
            "site.toml",
            'articles = "articles"',
            'articles = "articles"\n[fetch]\nmax_redirect = 3',
            "site.toml: fetch.max_redirect: unknown key; did you mean 'max_redirects'?",
        ),
        (
            "site.toml",
            'articles = "articles"',
            'articles = "articles"\n[fech]\nconcurrency = 3',
            "site.toml: fech: unknown key; did you mean 'fetch'?",
        ),
        (
            "feeds.toml",
            "local = true",
            "local = true\nlimt = 5",
            "feeds.toml: feed[everything].limt: unknown key; did you mean 'limit'?",
        ),
        (
            "feeds.toml",
            "[[feed]]",
            "[[feeds]]",
            "feeds.toml: feeds: unknown key; did you mean 'feed'?",
        ),
        (
            "sources.toml",
            'interval = "15m"',
            'interval = "15m"\nINTERVAL = "1h"',
            "sources.toml: source[wire-one].INTERVAL: unknown key; did you mean 'interval'?",
        ),
        (
            "sources.toml",
            'interval = "15m"',
            'interval = "15m"\ncolour = "red"',
            "sources.toml: source[wire-one].colour: unknown key",  # nothing close: no guess
        ),
    ],
)
def test_unknown_key_suggests_the_nearest_known_one(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    texts = {"site": SITE, "sources": SOURCES, "feeds": FEEDS}
    name = file.removesuffix(".toml")
    assert old in texts[name]
    texts[name] = texts[name].replace(old, new, 1)
    found = problems(write(tmp_path, **texts))
    assert expected in found
    assert [p for p in found if "unknown key" in p] == [expected]


def test_unknown_partner_key_suggests_the_nearest_known_one(tmp_path: Path) -> None:
    config_dir = write(tmp_path)
    (config_dir / "access.toml").write_text(
        '[[partner]]\nid = "wire-desk"\nname = "Wire desk"\nfeeds = ["*"]\n'
        f'key_sha256 = "{"a" * 64}"\nenable = false\n'
        '[[partners]]\nid = "x"\n',
        encoding="utf-8",
    )
    assert problems(config_dir) == [
        "access.toml: partners: unknown key; did you mean 'partner'?",
        "access.toml: partner[wire-desk].enable: unknown key; did you mean 'enabled'?",
    ]


def test_duplicate_source_id(tmp_path: Path) -> None:
    sources = SOURCES.replace('id = "outlet-two"', 'id = "wire-one"')
    assert one_problem(write(tmp_path, sources=sources)) == (
        "sources.toml: source[wire-one].id: duplicate source id 'wire-one'"
    )


def test_sources_file_shape(tmp_path: Path) -> None:
    found = problems(write(tmp_path, sources='source = "x"\n[other]\n'))
    assert found == [
        "sources.toml: other: unknown key",
        "sources.toml: source: must be an array of tables ([[source]]), not a string",
    ]


FEED_PROBLEMS = [
    (
        'name = "everything"',
        'name = "Every Thing"',
        "feed[Every Thing].name: not a slug (up to 100 lower-"
        "case letters, digits, '.', '_', '-'): 'Every Thing'",
    ),
    ('title = "Everything"\n', "", "feed[everything].title: missing required key"),
    (
        "local = true",
        "local = 1",
        "feed[everything].local: must be true, false or a non-empty list of tags",
    ),
    (
        "local = true",
        "local = []",
        "feed[everything].local: must be true, false or a non-empty list of tags",
    ),
    (
        'sources = ["*"]',
        'sources = "*"',
        "feed[everything].sources: must be a list of non-empty "
        "strings (source ids, 'tag:NAME' or '*')",
    ),
    ('sources = ["*"]', 'sources = ["tag:"]', "feed[everything].sources: empty tag name in 'tag:'"),
    (
        "local = true",
        "local = true\nlimit = 0",
        "feed[everything].limit: must be between 1 and 1000, not 0",
    ),
    (
        "local = true",
        "local = true\nlimit = 1001",
        "feed[everything].limit: must be between 1 and 1000, not 1001",
    ),
    (
        "local = true",
        'local = true\nlimit = "10"',
        "feed[everything].limit: must be an integer, not a string",
    ),
    (
        "local = true",
        "local = true\nmax_bytes = 9999",
        "feed[everything].max_bytes: must be at least 10000, not 9999",
    ),
    (
        "local = true",
        'local = true\nmax_bytes = "2MB"',
        "feed[everything].max_bytes: must be an integer, not a string",
    ),
    (
        "local = true",
        "local = true\nmax_bytes = 2.5e6",
        "feed[everything].max_bytes: must be an integer, not a number",
    ),
    (
        "local = true",
        'local = true\ninclude = ["(gaza"]',
        "feed[everything].include: invalid "
        "regular expression '(gaza': missing ), unterminated subpattern at position 0",
    ),
    (
        "local = true",
        'local = true\nexclude = ["a{2,1}"]',
        "feed[everything].exclude: invalid "
        "regular expression 'a{2,1}': min repeat greater than max repeat at position 2",
    ),
    (
        "local = true",
        'local = true\ninclude = "gaza"',
        "feed[everything].include: must be a list of non-empty strings (regular expressions)",
    ),
    (
        "local = true",
        'local = true\nmax_age = "old"',
        "feed[everything].max_age: not a duration: "
        "'old' (use a number with a unit: s, m, h, d or w, e.g. '15m', '1h30m')",
    ),
    (
        "local = true",
        'local = true\ncontent = "excerpt"',
        "feed[everything].content: must be 'full' or 'summary', not 'excerpt'",
    ),
    ("local = true", "local = true\nformat = 'rss'", "feed[everything].format: unknown key"),
]


@pytest.mark.parametrize(("old", "new", "expected"), FEED_PROBLEMS)
def test_feed_problems(tmp_path: Path, old: str, new: str, expected: str) -> None:
    feeds = FEEDS.replace(old, new, 1)
    assert problems(write(tmp_path, feeds=feeds)) == [f"feeds.toml: {expected}"]


def test_feed_selecting_nothing(tmp_path: Path) -> None:
    feeds = '[[feed]]\nname = "empty"\ntitle = "Empty"\nlocal = false\n'
    assert one_problem(write(tmp_path, feeds=feeds)) == (
        "feeds.toml: feed[empty]: selects nothing: set local and/or sources"
    )


def test_duplicate_feed_name(tmp_path: Path) -> None:
    assert one_problem(write(tmp_path, feeds=FEEDS + FEEDS)) == (
        "feeds.toml: feed[everything].name: duplicate feed name 'everything'"
    )


def test_feed_without_name_uses_index(tmp_path: Path) -> None:
    feeds = FEEDS + '[[feed]]\ntitle = "Nameless"\nlocal = true\n'
    assert one_problem(write(tmp_path, feeds=feeds)) == (
        "feeds.toml: feed[2].name: missing required key"
    )


def test_broken_source_still_known_to_feeds(tmp_path: Path) -> None:
    sources = SOURCES.replace("https://wire.example/feed.xml", "nope")
    feeds = FEEDS.replace('"*"', '"wire-one", "tag:humanitarian"')
    assert problems(write(tmp_path, sources=sources, feeds=feeds)) == [
        "sources.toml: source[wire-one].url: not an absolute http(s) URL: 'nope'"
    ]


def test_unreadable_sources_skip_reference_checks(tmp_path: Path) -> None:
    feeds = FEEDS.replace('"*"', '"afp"')
    (found,) = problems(write(tmp_path, sources="[[source]\n", feeds=feeds))
    # tomllib's wording varies between Python versions; the position and the file do not.
    assert found.startswith("sources.toml: line 1, column 9: Expected ']")


def test_many_problems_at_once(tmp_path: Path) -> None:
    site = SITE.replace('"en"', "1") + "[fetch]\ndeadline = -1\n"
    sources = SOURCES.replace("https://wire.example/feed.xml", "ftp://x").replace('"15m"', '"5s"')
    feeds = FEEDS.replace('"*"', '"afp", "tag:gaza"') + (
        '[[feed]]\nname = "x"\ntitle = "X"\nlocal = true\ninclude = ["["]\nlimit = 0\n'
    )
    found = problems(write(tmp_path, site=site, sources=sources, feeds=feeds))
    assert found == [
        "site.toml: language: must be a string, not an integer",
        "site.toml: fetch.deadline: must be a positive number",
        "sources.toml: source[wire-one].url: not an absolute http(s) URL: 'ftp://x'",
        "sources.toml: source[wire-one].interval: must be at least 1m: '5s'",
        "feeds.toml: feed[everything].sources: unknown source 'afp'",
        "feeds.toml: feed[everything].sources: no source has tag 'gaza'",
        "feeds.toml: feed[x].limit: must be between 1 and 1000, not 0",
        "feeds.toml: feed[x].include: invalid regular expression '[': unterminated character "
        "set at position 0",
    ]


def test_missing_config_dir(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope") == [f"{tmp_path / 'nope'}: directory not found"]


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "1.5h", "30m1h", "1h 30m", "-5m", "0s", "0h0m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_duration(text)


# --------------------------------------------------------------------------- environment


def test_env_base_url_overrides(tmp_path: Path) -> None:
    env = {"FEEDS_BASE_URL": "https://feeds.levantledger.news/"}
    site = load_config(write(tmp_path), env).site
    assert site.base_url == "https://feeds.levantledger.news"
    assert site.fetch.user_agent == "feeds/0.1.0 (+https://feeds.levantledger.news)"


def test_env_base_url_makes_file_key_optional(tmp_path: Path) -> None:
    site = SITE.replace('base_url = "https://feeds.outlet.example/"\n', "")
    write(tmp_path, site=site)
    assert problems(tmp_path) == ["site.toml: base_url: missing required key"]
    config = load_config(tmp_path, {"FEEDS_BASE_URL": "http://127.0.0.1:9000"})
    assert config.site.base_url == "http://127.0.0.1:9000"


def test_env_base_url_invalid(tmp_path: Path) -> None:
    found = problems(write(tmp_path), {"FEEDS_BASE_URL": "feeds.example"})
    assert found == ["environment: FEEDS_BASE_URL: not an absolute http(s) URL: 'feeds.example'"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_env_allow_private_addresses(tmp_path: Path, value: str, expected: bool) -> None:
    env = {"FEEDS_ALLOW_PRIVATE_ADDRESSES": value}
    assert load_config(write(tmp_path), env).site.fetch.allow_private_addresses is expected


def test_env_allow_private_addresses_invalid(tmp_path: Path) -> None:
    found = problems(write(tmp_path), {"FEEDS_ALLOW_PRIVATE_ADDRESSES": "maybe"})
    assert found == [
        "environment: FEEDS_ALLOW_PRIVATE_ADDRESSES: expected 1, true, yes, 0, false or no: 'maybe'"
    ]


def test_environ_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDS_BASE_URL", "https://from-env.example")
    assert load_config(write(tmp_path)).site.base_url == "https://from-env.example"


# --------------------------------------------------------------------------- fingerprint


def test_config_fingerprint_changes(tmp_path: Path) -> None:
    write(tmp_path)
    first = config_fingerprint(tmp_path)
    assert config_fingerprint(tmp_path) == first
    (tmp_path / "feeds.toml").write_text(FEEDS + "\n# edited\n", encoding="utf-8")
    second = config_fingerprint(tmp_path)
    assert second != first
    (tmp_path / "sources.toml").unlink()
    assert config_fingerprint(tmp_path) != second


# --------------------------------------------------------------------------- docs honesty


def documented_keys() -> dict[str, set[str]]:
    """Keys of the tables in docs/config.md, by section heading."""
    sections: dict[str, set[str]] = {}
    current = ""
    for line in (ROOT / "docs" / "config.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#{2,3} (.+)", line)
        if heading:
            current = heading.group(1).strip()
            sections[current] = set()
            continue
        row = re.match(r"\| `([^`]+)` \|", line)
        if row and current:
            sections[current].add(row.group(1))
    return sections


def test_docs_document_every_key_and_only_those() -> None:
    from feeds.articles import ARTICLE_KEYS

    documented = documented_keys()
    expected = {
        "site.toml": config_module.SITE_KEYS,
        "site.toml [fetch]": config_module.FETCH_KEYS,
        "site.toml [[webhook]]": config_module.WEBHOOK_KEYS,
        "sources.toml [[source]]": config_module.SOURCE_KEYS,
        "feeds.toml [[feed]]": config_module.FEED_KEYS,
        "access.toml [[partner]]": config_module.PARTNER_KEYS,
        "access.toml [[client]]": config_module.CLIENT_KEYS,
        "Environment variables": config_module.ENV_OVERRIDES,
        "Local articles": ARTICLE_KEYS,
    }
    for section, keys in expected.items():
        assert section in documented, f"docs/config.md has no section {section!r}"
        assert documented[section] == set(keys), section


def test_documented_defaults_match_the_loader(tmp_path: Path) -> None:
    """The defaults the docs state for [fetch] are the ones the loader applies."""
    fetch = load_config(write(tmp_path), {}).site.fetch
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for key, value in [
        ("deadline", "30"),
        ("max_bytes", "10485760"),
        ("concurrency", "8"),
        ("max_redirects", "5"),
        ("allow_private_addresses", "false"),
    ]:
        assert re.search(rf"\| `{key}` \|[^|]*\| `{value}`", text), key
        assert str(getattr(fetch, key)).lower().removesuffix(".0") == value


def test_ids_and_names_are_at_most_100_characters() -> None:
    assert is_slug("a" * 100)
    assert not is_slug("a" * 101)


def test_documented_byte_budget_is_the_loaders() -> None:
    """feeds.toml's max_bytes: the default and the minimum the docs state."""
    from feeds.config.feeds import MIN_BUDGET
    from feeds.types import FeedSpec

    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    row = re.search(r"\| `max_bytes` \| integer, at least (\d+) \(bytes\) \| `(\d+)`", text)
    assert row is not None
    assert (int(row.group(1)), int(row.group(2))) == (MIN_BUDGET, FeedSpec.max_bytes)

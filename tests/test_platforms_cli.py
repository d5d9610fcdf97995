"""`feeds check --platform NAME`: the published documents of a site against a platform's
rules, one `feed: item: rule` line per violation, exit 1 when there is any; and the shipped
config's feed for platforms (`ours`) passes each platform but for what config cannot change."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import feeds.times
from feeds.cli import main
from feeds.platforms import PLATFORMS
from feeds.store import Store
from tests.sites import Site, serve_fixture_feeds
from tests.upstream import Upstream

ROOT = Path(__file__).parent.parent
LINE = re.compile(r"^(?P<feed>[a-z0-9][a-z0-9._-]*): (?P<item>\S+): (?P<rule>.+)$")


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if LINE.match(line)]


def test_plain_check_is_unchanged(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.feeds("check") == 0
    out = capsys.readouterr().out
    assert out == f"{site.config}: 3 sources, 3 feeds, 2 articles\n"


def test_nothing_published_yet(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    Store(site.db).close()  # a database, nothing in it (a missing one is refused: test_cli)
    assert site.feeds("check", "--platform", "google-news") == 1
    captured = capsys.readouterr()
    assert lines(captured.out) == [
        "everything: -: not published yet (run feeds update)",
        "ours: -: not published yet (run feeds update)",
        "humanitarian: -: not published yet (run feeds update)",
    ]
    assert captured.err == "Google News: 3 problems in 3 feeds\n"


def test_a_platform_without_problems(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.feeds("update") == 0
    capsys.readouterr()
    assert site.feeds("check", "--platform", "google-news") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Google News: no problems in 3 feeds"
    assert lines("\n".join(out)) == []


def test_violations_are_printed_one_a_line(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """The test site says language = "en" and describes its feeds at length: Apple News wants
    a region, SmartNews a short description."""
    assert site.feeds("update") == 0
    capsys.readouterr()
    assert site.feeds("check", "--platform", "apple-news") == 1
    found = lines(capsys.readouterr().out)
    region = "the channel's language 'en' names no region"
    assert [line for line in found if region in line] == [
        f"{feed}: -: {region} (Apple News wants the language with its locale: "
        "set language in site.toml, e.g. 'en-GB')"
        for feed in ("everything", "ours", "humanitarian")
    ]
    assert site.feeds("check", "--platform", "smartnews", "--feed", "everything") == 1
    captured = capsys.readouterr()
    assert len("All our articles and every source") == 33
    assert lines(captured.out) == [
        "everything: -: the channel's <description> has 33 characters "
        "(SmartFormat wants a short description of 30 characters or less)"
    ]
    assert captured.err == "SmartNews: 1 problem in 1 feed\n"


def test_unknown_feeds_and_platforms(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.feeds("check", "--platform", "msn", "--feed", "nope") == 2
    assert "no feed 'nope'; feeds: everything, ours, humanitarian" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        site.feeds("check", "--platform", "myspace")
    assert exit_info.value.code == 2


# --------------------------------------------------------------------------- the shipped config

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # after the shipped articles

# What the shipped feed for platforms (`ours`) cannot meet by config alone, and why
# (docs/platforms.md, "The shipped example"):
# - Flipboard wants 20 items at least: the example has 6 articles;
# - Apple News wants titles of 60 characters at most: two headlines are longer, and headlines
#   are the newsroom's, not the config's.
EXPECTED = {
    "google-news": [],
    "msn": [],
    "flipboard": ["ours: -: 6 items (Flipboard wants the 20 most recent at least)"],
    "apple-news": [
        "ours: https://levantledger.news/syria-returnees-homs: the title has 80 characters "
        "(Apple News: titles should be 15 to 60 characters)",
        "ours: https://levantledger.news/gaza-aid-corridor: the title has 78 characters "
        "(Apple News: titles should be 15 to 60 characters)",
    ],
    "smartnews": [],
}


def test_the_shipped_feed_for_platforms_passes_but_for_what_config_cannot_change(
    tmp_path: Path,
    upstream: Upstream,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """config/ and content/ as shipped, deployed at an https URL (FEEDS_BASE_URL), its
    sources answered from loopback; checked at a fixed time."""
    assert set(EXPECTED) == set(PLATFORMS)
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    serve_fixture_feeds(upstream)
    sources = tmp_path / "config" / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    for n, url in enumerate(re.findall(r'^url = "([^"]+)"$', text, re.MULTILINE)):
        text = text.replace(f'"{url}"', f'"{upstream.url("/wire.xml" if n % 2 else "/un.atom")}"')
    sources.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FEEDS_BASE_URL", "https://feeds.levantledger.news")
    monkeypatch.setenv("FEEDS_ALLOW_PRIVATE_ADDRESSES", "1")
    args = ["--config", str(tmp_path / "config"), "--database", f"sqlite:///{tmp_path}/f.db"]
    assert main([*args, "update"]) == 0
    monkeypatch.setattr(feeds.times, "utcnow", lambda: NOW)
    for platform, expected in EXPECTED.items():
        capsys.readouterr()
        status = main([*args, "check", "--platform", platform, "--feed", "ours"])
        assert lines(capsys.readouterr().out) == expected, platform
        assert status == (1 if expected else 0), platform
    # Every feed is checked, each line well-formed, whatever the upstream content.
    for platform in PLATFORMS:
        capsys.readouterr()
        assert main([*args, "check", "--platform", platform]) in (0, 1)
        out = capsys.readouterr().out.splitlines()[1:]  # after the config summary line
        assert all(LINE.match(line) for line in out if not line.endswith("problems in 4 feeds"))

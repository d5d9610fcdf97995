"""OPML reading lists: `feeds import-opml`, `feeds export-opml` and `/sources.opml`.

Imports run against copies of the shipped config (and empty ones), with files reproducing what
Feedly, Inoreader, NetNewsWire, Miniflux, FreshRSS and Thunderbird export (tests/fixtures/opml/).
What is checked is what an editor sees: the command's output and exit status, the bytes of
sources.toml, `feeds check`, and the served document.
"""

from __future__ import annotations

import shutil
import tomllib
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from feeds.cli import main
from feeds.config import load_config
from feeds.web import state
from tests.partners import PARTNER_FEEDS_TOML
from tests.sites import Site
from tests.upstream import Upstream

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "opml"
EMPTY_SOURCES = "# Upstream feeds we follow (none yet).\n"


def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped config/ (and the articles it points to)."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path / "config"


def feeds(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def imported(
    config: Path, name: str, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[str], str]:
    """Run import-opml on a fixture: (exit status, stdout lines, stderr)."""
    capsys.readouterr()
    status = feeds(config, "import-opml", str(FIXTURES / name), *args)
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def added_sources(config: Path, before: set[str]) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """The sources of the config that are not in ``before``: id → (url, title, tags)."""
    return {
        s.id: (s.url, s.title, s.tags) for s in load_config(config).sources if s.id not in before
    }


def checked(config: Path, capture: pytest.CaptureFixture[Any]) -> None:
    """`feeds check` passes (stdout and stderr, text or bytes, read from ``capture``)."""
    capture.readouterr()
    status = feeds(config, "check")
    assert status == 0, capture.readouterr().err


# --------------------------------------------------------------------------- import


def test_a_feedly_export_into_the_shipped_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    before = (config / "sources.toml").read_bytes()
    status, out, err = imported(config, "feedly.opml", capsys)
    assert (status, err) == (0, "")
    assert out == [
        "line 9: skipped http://www.aljazeera.com/xml/rss/all.xml: already in sources.toml as "
        "aljazeera-english",
        'line 10: added middle-east-eye "Middle East Eye" https://www.middleeasteye.net/rss '
        "(tags: middle-east, wires)",
        'line 11: added the-national-news "The National - News" '
        "https://www.thenationalnews.com/arc/outboundfeeds/rss/category/news/?outputType=xml "
        "(tags: middle-east)",
        "line 14: skipped https://www.middleeasteye.net/rss: same feed as line 10 "
        "(middle-east-eye); its tags are added to it",
        'line 15: added reuters-world-news "Reuters: World News" '
        "https://www.reutersagency.com/feed/?best-topics=political-general&post_type=best "
        "(tags: wires)",
        f"{FIXTURES / 'feedly.opml'}: 3 sources added to {config / 'sources.toml'}; "
        "2 outlines skipped (1 already present, 1 listed twice)",
    ]
    # Every byte of the file stays, comments included; the new tables follow.
    assert (config / "sources.toml").read_bytes() == before + (
        b"\n# Imported from feedly.opml by feeds import-opml\n"
        b"\n[[source]]\n"
        b'id = "middle-east-eye"\n'
        b'title = "Middle East Eye"\n'
        b'url = "https://www.middleeasteye.net/rss"\n'
        b'tags = ["middle-east", "wires"]\n'
        b"\n[[source]]\n"
        b'id = "the-national-news"\n'
        b'title = "The National - News"\n'
        b'url = "https://www.thenationalnews.com/arc/outboundfeeds/rss/category/news/'
        b'?outputType=xml"\n'
        b'tags = ["middle-east"]\n'
        b"\n[[source]]\n"
        b'id = "reuters-world-news"\n'
        b'title = "Reuters: World News"\n'
        b'url = "https://www.reutersagency.com/feed/?best-topics=political-general'
        b'&post_type=best"\n'
        b'tags = ["wires"]\n'
    )
    checked(config, capsys)
    # Importing again adds nothing and leaves the file alone.
    after = (config / "sources.toml").read_bytes()
    status, out, _ = imported(config, "feedly.opml", capsys)
    assert status == 0 and out[-1].endswith(
        "0 sources added to "
        + str(config / "sources.toml")
        + "; 5 outlines skipped (5 already present)"
    )
    assert (config / "sources.toml").read_bytes() == after


READERS = {
    "inoreader.opml": (
        {
            "ocha-occupied-palestinian-territory": (
                "https://www.ochaopt.org/rss.xml",
                "OCHA - Occupied Palestinian Territory",
                ("humanitarian",),
            ),
            "unrwa": ("https://www.unrwa.org/rss.xml", "UNRWA", ("humanitarian",)),
            "lorient-today": (
                "https://today.lorientlejour.com/rss",
                "L'Orient Today",
                ("lebanon",),
            ),
            "amnesty-international": (
                "https://www.amnesty.org/en/feed/",
                "Amnesty International",
                (),
            ),
        },
        # ReliefWeb with a tracking parameter is the shipped reliefweb-updates; an empty folder.
        "2 outlines skipped (1 already present, 1 not a feed)",
    ),
    "netnewswire.opml": (
        {
            "arab-news": ("https://www.arabnews.com/cat/1/rss.xml", "Arab News", ()),
            "enab-baladi": ("https://english.enabbaladi.net/feed/", "Enab Baladi", ("syria",)),
            # No ASCII in the title: the id comes from the host.
            "enabbaladi-net": ("https://www.enabbaladi.net/feed/", "عنب بلدي", ("syria",)),
            # text only, no title attribute.
            "sana": ("https://sana.sy/en/?feed=rss2", "SANA", ("syria",)),
        },
        # The untitled feed with a trailing slash is the shipped hrw-news.
        "1 outline skipped (1 already present)",
    ),
    "miniflux.opml": (
        {
            "amwaj-media": ("https://amwaj.media/feed", "Amwaj.media", ("all",)),
            "rudaw-english-kurdistan-iraq": (
                "https://www.rudaw.net/english/rss",
                'Rudaw English | "Kurdistan" & Iraq',
                ("all",),
            ),
            "iranwire": ("https://iranwire.com/en/feed/", "IranWire", ("iran",)),
        },
        "0 outlines skipped",
    ),
    "freshrss.opml": (
        {
            "jordan-times": ("https://jordantimes.com/rss.xml", "Jordan Times", ("uncategorized",)),
            "prime-ministry": (
                "https://pm.gov.example/en/rss",
                "Prime Ministry",
                ("official-sources",),
            ),
        },
        # UN News is shipped; the HTML+XPath outline is a scraped web page, not a feed.
        "2 outlines skipped (1 already present, 1 not a feed)",
    ),
    "thunderbird.opml": (
        {
            "gulf-news-uae": (
                "https://gulfnews.com/rss?generatorName=uae",
                "Gulf News - UAE",
                ("news", "gulf"),
            ),
            "egypt-independent": ("https://egyptindependent.com/feed/", "Egypt Independent", ()),
        },
        "1 outline skipped (1 already present)",
    ),
    "edge-cases.opml": (
        {
            "cafe-culture-beirut": (
                "https://beirut.example/feed",
                "Café culture, Beirut",
                ("Lebanon", "Beirut", "Culture"),  # categories as written
            ),
            # feed:// is http://; a folder name with a slash is two tags.
            "levant-podcast": (
                "http://podcast.example/levant.xml",
                "Levant Podcast",
                ("podcasts", "audio"),
            ),
            "levant-podcast-2": (
                "https://podcast.example/other.xml",
                "Levant Podcast",
                ("podcasts", "audio"),
            ),
            "with-a-note": ("https://notes.example/rss", "With a note", ()),
        },
        "7 outlines skipped (1 listed twice, 3 not feeds, 2 unusable URLs, 1 commented out)",
    ),
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_readers_exports_into_the_shipped_config(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    before = (config / "sources.toml").read_bytes()
    ids = {s.id for s in load_config(config).sources}
    expected, skipped = READERS[name]
    status, out, err = imported(config, name, capsys)
    assert (status, err) == (0, "")
    assert added_sources(config, ids) == expected
    assert out[-1] == (
        f"{FIXTURES / name}: {len(expected)} sources added to {config / 'sources.toml'}; " + skipped
    )
    # One line per outline that is not a folder, in the file's order.
    lines = [int(line.split(":", 1)[0].removeprefix("line ")) for line in out[:-1]]
    assert lines == sorted(lines) and len(lines) == len(expected) + int(skipped.split()[0])
    assert [line.split()[3] for line in out[:-1] if " added " in line] == list(expected)
    assert (config / "sources.toml").read_bytes().startswith(before)
    checked(config, capsys)


def test_tags_given_on_the_command_line_and_ids_already_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    (config / "sources.toml").write_text(
        EMPTY_SOURCES + '\n[[source]]\nid = "iranwire"\ntitle = "Other"\n'
        'url = "https://other.example/rss"\n',
        encoding="utf-8",
    )
    status, out, _ = imported(config, "miniflux.opml", capsys, "--tag", " Wire ", "--tag", "iran")
    assert status == 0
    tables = {
        t["id"]: t
        for t in tomllib.loads((config / "sources.toml").read_text(encoding="utf-8"))["source"]
    }
    assert tables["iranwire"]["title"] == "Other"
    assert tables["iranwire-2"] == {
        "id": "iranwire-2",
        "title": "IranWire",
        "url": "https://iranwire.com/en/feed/",
        "tags": ["iran", "Wire"],
    }
    assert tables["amwaj-media"]["tags"] == ["all", "Wire", "iran"]
    assert (
        'line 13: added iranwire-2 "IranWire" https://iranwire.com/en/feed/ (tags: iran, Wire)'
        in out
    )
    # A --tag that an export could not write back as one category is refused.
    for bad in (" , ", "a/b", "a,b"):
        with pytest.raises(SystemExit) as refused:
            feeds(config, "import-opml", str(FIXTURES / "miniflux.opml"), "--tag", bad)
        assert refused.value.code == 2
        assert (
            f"argument --tag: not one tag (no comma or slash): {bad!r}" in capsys.readouterr().err
        )


def test_a_dry_run_reports_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    before = (config / "sources.toml").stat()
    status, out, _ = imported(config, "thunderbird.opml", capsys, "--dry-run")
    assert status == 0
    assert 'line 11: would add gulf-news-uae "Gulf News - UAE" ' in out[1]
    assert out[-1].endswith(
        "2 sources to add to "
        + str(config / "sources.toml")
        + "; 1 outline skipped (1 already present); nothing written (--dry-run)"
    )
    after = (config / "sources.toml").stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        # Windows line endings stay Windows line endings.
        (
            "# Sources\r\n\r\n[[source]]\r\nid = 'a'\r\ntitle = 'A'\r\nurl = 'https://a.example/'\r\n",
            '\r\n# Imported from egypt.opml by feeds import-opml\r\n\r\n[[source]]\r\nid = "egypt"',
        ),
        # No newline at the end: one is added, and a blank line.
        (
            "[[source]]\nid = 'a'\ntitle = 'A'\nurl = 'https://a.example/'",
            '\n\n# Imported from egypt.opml by feeds import-opml\n\n[[source]]\nid = "egypt"',
        ),
        # A comment ends the file: the new tables come after it.
        (
            "[[source]]\nid = 'a'\ntitle = 'A'\nurl = 'https://a.example/'\n\n# [[source]]\n"
            "# id = 'b'  (off for now)\n",
            '\n# Imported from egypt.opml by feeds import-opml\n\n[[source]]\nid = "egypt"',
        ),
        # An empty file.
        ("", '# Imported from egypt.opml by feeds import-opml\n\n[[source]]\nid = "egypt"'),
    ],
)
def test_the_file_keeps_its_layout(
    text: str, tail: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    (config / "sources.toml").write_bytes(text.encode())
    opml = tmp_path / "egypt.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline text="Egypt" xmlUrl="https://eg.example/rss"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    assert feeds(config, "import-opml", str(opml)) == 0
    written = (config / "sources.toml").read_bytes().decode()
    assert written.startswith(text) and written[len(text) :].startswith(tail)
    assert tomllib.loads(written)["source"][-1] == {
        "id": "egypt",
        "title": "Egypt",
        "url": "https://eg.example/rss",
    }


def test_settings_the_config_refuses_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    path = tmp_path / "edited.opml"
    title = "The Very Long Name of a Regional Broadcaster's English-Language World News Service"
    path.write_text(
        '<opml version="2.0" xmlns:x="urn:feeds:opml"><body>\n'
        f'<outline text="{title}" xmlUrl="https://long.example/rss" x:id="Not A Slug" '
        'x:interval="10s" x:max_items="40" x:republish="everything" x:max_age="2d"/>\n'
        "</body></opml>",
        encoding="utf-8",
    )
    status, out, _ = imported(config, str(path), capsys)
    source_id = "the-very-long-name-of-a-regional-broadcasters-english"  # cut at a word
    assert status == 0
    assert out[0] == (
        f'line 2: added {source_id} "{title}" https://long.example/rss; '
        "feeds:interval left out: must be at least 1m: '10s'; "
        "feeds:republish left out: must be 'full', 'summary' or 'title', not 'everything'"
    )
    added = load_config(config).sources[-1]
    assert (added.id, added.max_items, str(added.max_age)) == (source_id, 40, "2 days, 0:00:00")
    assert (added.interval, added.republish.value) == (timedelta(minutes=30), "full")


# --------------------------------------------------------------------------- refusals

BROKEN = {
    "truncated.opml": (
        b'<?xml version="1.0"?>\n<opml version="2.0"><body>\n<outline text="A" '
        b'xmlUrl="https://a.example/rss"/>\n<outline text="B"',
        "line 4, column 1: malformed XML (unclosed token)",
    ),
    "mismatched.opml": (
        b'<opml><body><outline text="x" xmlUrl="https://a.example/"></body></opml>',
        "line 1, column 61: malformed XML (mismatched tag)",
    ),
    "subscriptions.json": (
        b'{"subscriptions": ["https://a.example/rss"]}',
        "not an OPML document: not XML (line 1, column 1: not well-formed (invalid token))",
    ),
    "feed.xml": (
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>A</title></channel></rss>',
        "not an OPML document (the root element is <rss>)",
    ),
    "page.html": (
        b"<html><head><title>My feeds</title></head><body><a href='/rss'>RSS</a></body></html>",
        "not an OPML document (the root element is <html>)",
    ),
    "laughs.opml": (
        b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<opml><body><outline text="&c;" xmlUrl="https://a.example/"/></body></opml>',
        "declares XML entities (refused: OPML needs none)",
    ),
    "passwd.opml": (
        b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<opml><body><outline text="&x;" xmlUrl="https://a.example/"/></body></opml>',
        "declares XML entities (refused: OPML needs none)",
    ),
    "headless.opml": (
        b'<opml version="2.0"><head/></opml>',
        "not an OPML document (no <body> in <opml>)",
    ),
    "empty.opml": (b"\n", "empty file, not an OPML document"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_changes_nothing(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    body, problem = BROKEN[name]
    path = tmp_path / name
    path.write_bytes(body)
    before = (config / "sources.toml").stat()
    capsys.readouterr()
    assert feeds(config, "import-opml", str(path)) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"{path}: {problem}\n")
    after = (config / "sources.toml").stat()
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert sorted(p.name for p in config.iterdir()) == sorted(
        p.name for p in (ROOT / "config").iterdir()
    )


def test_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = shipped(tmp_path)
    assert feeds(config, "import-opml", str(tmp_path / "nowhere.opml")) == 2
    assert (
        capsys.readouterr().err
        == f"{tmp_path / 'nowhere.opml'}: cannot read: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[source]]\nid = 'a'\ntitle = \n", "sources.toml: line 3, column 9: Invalid value\n"),
        (
            "source = []\n",
            "sources.toml: source: must be [[source]] tables to add sources to, not source = […]\n",
        ),
    ],
)
def test_a_sources_file_that_cannot_be_edited(
    text: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = shipped(tmp_path)
    (config / "sources.toml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert feeds(config, "import-opml", str(FIXTURES / "feedly.opml")) == 2
    assert capsys.readouterr() == ("", problem)
    assert (config / "sources.toml").read_text(encoding="utf-8") == text


def test_reading_a_file_fetches_nothing(
    tmp_path: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    """An external DTD is never fetched, and an undeclared entity it would define is not
    expanded: the outline is read without it."""
    config = shipped(tmp_path)
    path = tmp_path / "dtd.opml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE opml SYSTEM "{upstream.url("/opml.dtd")}">\n'
        '<opml version="2.0"><body><outline text="Ahram&ext;" type="rss" '
        f'xmlUrl="{upstream.url("/feed.xml")}"/></body></opml>\n',
        encoding="utf-8",
    )
    status, out, _ = imported(config, str(path), capsys)
    assert status == 0 and out[0].startswith('line 3: added ahram "Ahram" http://127.0.0.1:')
    assert upstream.requests == []


# --------------------------------------------------------------------------- export


def test_the_round_trip_gives_the_same_sources(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    config = shipped(tmp_path / "a")
    with (config / "sources.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[[source]]\nid = "ahram"\ntitle = "الأهرام \\"Ahram\\" & <Co>"\n'
            'url = "https://user:secret@ahram.example/rss?a=1&b=2"\ntags = ["arabic", "Egypt"]\n'
            'interval = "1h30m"\nmax_items = 40\nmax_age = "2d"\nrepublish = "title"\n'
            '\n[[source]]\nid = "off"\ntitle = "Off"\nurl = "https://off.example/rss"\n'
            "enabled = false\n"
        )
    original = [s for s in load_config(config).sources if s.enabled]
    capsysbinary.readouterr()
    assert feeds(config, "export-opml") == 0
    exported = capsysbinary.readouterr().out
    # A valid OPML 2.0 document: every outline a feed with text, type and xmlUrl.
    root = ET.fromstring(exported)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "The Levant Ledger: sources"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [s.url for s in original]
    assert all(
        o.get("type") == "rss" and o.get("text") and o.get("htmlUrl") is None for o in outlines
    )
    assert outlines[-1].get("category") == "arabic,Egypt"
    assert outlines[-1].get("title") == 'الأهرام "Ahram" & <Co>'

    target = shipped(tmp_path / "b")
    (target / "sources.toml").write_text(EMPTY_SOURCES, encoding="utf-8")
    (tmp_path / "sources.opml").write_bytes(exported)
    capsysbinary.readouterr()
    assert feeds(target, "import-opml", str(tmp_path / "sources.opml")) == 0
    capsysbinary.readouterr()
    # The same sources, field for field: ids, URLs, titles, tags and settings.
    assert list(load_config(target).sources) == original
    checked(target, capsysbinary)


def test_an_export_of_the_import_is_byte_for_byte_the_export(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    config = shipped(tmp_path / "a")
    capsysbinary.readouterr()
    assert feeds(config, "export-opml") == 0
    first = capsysbinary.readouterr().out
    target = shipped(tmp_path / "b")
    (target / "sources.toml").write_text(EMPTY_SOURCES, encoding="utf-8")
    (tmp_path / "list.opml").write_bytes(first)
    assert feeds(target, "import-opml", str(tmp_path / "list.opml")) == 0
    capsysbinary.readouterr()
    assert feeds(target, "export-opml") == 0
    assert capsysbinary.readouterr().out == first


@pytest.mark.parametrize("command", ["import-opml", "export-opml"])
def test_help_describes_each_command_and_its_defaults(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "OPML" in text.split("positional arguments:")[0].split("options:")[0]
    options = text.split("options:")[1]
    for option in {"import-opml": ("--tag T", "--dry-run"), "export-opml": ("--public",)}[command]:
        described = options.split(option, 1)[1].split(" --", 1)[0]
        assert "(default:" in described or "default:" in described, (option, described)


# --------------------------------------------------------------------------- served


def test_sources_opml_is_the_public_export(
    site: Site, client: FlaskClient, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    with (site.config / "sources.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[[source]]\nid = "keyed"\ntitle = "Keyed"\n'
            'url = "https://reader:hunter2@keyed.example/rss"\n'
        )
    state(client.application).watcher.poll()
    response = client.get("/sources.opml")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/x-opml; charset=utf-8"
    capsysbinary.readouterr()
    assert site.feeds("export-opml", "--public") == 0
    assert response.data == capsysbinary.readouterr().out
    assert b"hunter2" not in response.data and b"https://keyed.example/rss" in response.data
    shown = {o.get("xmlUrl") for o in ET.fromstring(response.data).iter("outline")}
    listed = {s["url"] for s in client.get("/sources.json").get_json()["sources"]}
    assert shown == listed
    # The editors' own export keeps the URL as configured.
    assert site.feeds("export-opml") == 0
    assert b"reader:hunter2@" in capsysbinary.readouterr().out
    # Conditional requests.
    etag = response.headers["ETag"]
    again = client.get("/sources.opml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    head = client.head("/sources.opml")
    assert head.status_code == 200 and head.headers["ETag"] == etag


def test_sources_only_partners_read_are_not_in_sources_opml(
    site: Site, client: FlaskClient
) -> None:
    before = client.get("/sources.opml")
    assert b"Wire Service" in before.data
    # The wire source is only in a partners feed once "everything" no longer takes it.
    (site.config / "feeds.toml").write_text(
        PARTNER_FEEDS_TOML.replace('sources = ["*"]', 'sources = ["un", "down"]'), encoding="utf-8"
    )
    assert state(client.application).watcher.poll() is not None
    after = client.get("/sources.opml", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    titles = [o.get("title") for o in ET.fromstring(after.data).iter("outline")]
    assert titles == ["UN News", "Broken upstream"]
    ids = [s["id"] for s in client.get("/sources.json").get_json()["sources"]]
    assert ids == ["un", "down"]

"""Local articles within limits: YAML without anchors or aliases, a size cap
(``articles_max_bytes``), only regular files inside the articles directory, and messages that
never grow with what they complain about. Each limit through the public functions, through
``feeds check`` and ``feeds update``, the clock, and the API where it applies."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from feeds.articles import FieldError, article_from_fields, load_article, load_articles
from feeds.config import load_config
from feeds.errors import ArticleError, ConfigError
from feeds.pipeline import Pipeline
from feeds.reload import ConfigWatcher
from feeds.scheduler import Clock
from feeds.store import Store
from feeds.types import Format, Site
from feeds.web import create_app, state
from tests.api import ARTICLE, write_access
from tests.sites import FIXTURES, write_site
from tests.sites import Site as ConfigSite
from tests.upstream import Upstream

GOOD = "---\ntitle: Good\ndate: 2026-11-03T09:30:00+02:00\n---\nBody.\n"
HEAD = "---\ntitle: T\ndate: 2026-11-03T09:30:00+02:00\n"
# A message quoting a value keeps 60 characters of it at most: a whole problem line is short.
SHORT = 400


def make_site(articles_dir: Path, articles_max_bytes: int = 1_000_000) -> Site:
    return Site(
        title="The Levant Ledger",
        link="https://levantledger.news/",
        base_url="http://127.0.0.1:8000",
        description="Test",
        language="en",
        articles_dir=articles_dir,
        articles_max_bytes=articles_max_bytes,
    )


def error_of(path: Path, site: Site) -> str:
    with pytest.raises(ArticleError) as info:
        load_article(path, site)
    return str(info.value)


def laughs(levels: int, width: int = 10) -> str:
    """Front matter whose image.width is ``width ** levels`` strings through aliases of
    aliases. Kept to a million: should aliases ever be expanded again, the test fails on the
    message's length instead of taking the machine's memory."""
    lines = [HEAD, 'l0: &l0 "lol"\n']
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]\n")
    lines.append(f"image:\n  url: a.jpg\n  width: *l{levels}\n---\nBody.\n")
    return "".join(lines)


# --------------------------------------------------------------------------- YAML aliases


def test_an_alias_bomb_is_refused_at_once_with_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "bomb.md"
    path.write_text(laughs(6), encoding="utf-8")
    assert len(path.read_bytes()) < 1000
    started = time.monotonic()
    message = error_of(path, make_site(tmp_path))
    assert time.monotonic() - started < 5  # generous: it takes milliseconds
    assert message == (
        f"{path}: front matter: YAML anchors (&name) are not allowed (line 4, column 5)"
    )


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        # an alias alone (to no anchor) is refused as an alias
        ("image: *picture\n", "YAML aliases (*name) are not allowed (line 4, column 8)"),
        ("tags: &t [a, b]\n", "YAML anchors (&name) are not allowed (line 4, column 7)"),
        ("image:\n  <<: *base\n  url: a.jpg\n", "YAML aliases (*name) are not allowed"),
        ("title2: &x T\n", "YAML anchors (&name) are not allowed"),
    ],
)
def test_anchors_and_aliases_are_refused(tmp_path: Path, yaml_text: str, problem: str) -> None:
    path = tmp_path / "story.md"
    path.write_text(HEAD + yaml_text + "---\nBody.\n", encoding="utf-8")
    assert error_of(path, make_site(tmp_path)).startswith(f"{path}: front matter: {problem}")


def test_an_ampersand_or_asterisk_in_a_quoted_value_is_text(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text(
        '---\ntitle: "Bread & *salt*"\ndate: 2026-11-03T09:30:00+02:00\n'
        "summary: 'Plain & simple *'\n---\nBody.\n",
        encoding="utf-8",
    )
    article = load_article(path, make_site(tmp_path))
    assert (article.title, article.summary) == ("Bread & *salt*", "Plain & simple *")


# --------------------------------------------------------------------------- short messages


def test_messages_quote_at_most_a_few_dozen_characters(tmp_path: Path) -> None:
    long = "x" * 10_000  # several such values: the file stays under the 1 MB limit
    many = "[" + ", ".join(["123456789"] * 10_000) + "]"
    path = tmp_path / "story.md"
    path.write_text(
        f"---\ntitle: T\ndate: '{long}'\nlink: 'https://{long}'\nslug: '{long}'\n"
        f"language: '{long}'\n? {long}\n: 1\nimage:\n  url: 'ftp://{long}'\n  width: {many}\n"
        f"  height: '{long}'\n  ? {long}\n  : 2\n---\nBody.\n",
        encoding="utf-8",
    )
    message = error_of(path, make_site(tmp_path))
    assert len(message) < 8 * SHORT, message
    assert "date: not an ISO 8601 date and time: '" + "x" * 59 + "…'" in message
    assert "image.width: must be a positive integer, not a list" in message
    assert "image.height: must be a positive integer, not '" + "x" * 59 + "…'" in message
    assert "x" * 60 not in message


def test_an_unreadable_value_is_named_briefly(tmp_path: Path) -> None:
    """PyYAML's own explanations are clipped too: a number of 5,000 digits."""
    path = tmp_path / "story.md"
    path.write_text(HEAD + f"image: {{url: a.jpg, width: {'9' * 5000}}}\n---\n", "utf-8")
    message = error_of(path, make_site(tmp_path))
    assert message.startswith(f"{path}: front matter: invalid YAML")
    assert len(message) < SHORT


def test_api_messages_are_short_too(tmp_path: Path) -> None:
    long = "y" * 100_000
    fields = {
        "title": ["a"] * 100_000,
        "date": long,
        "link": long,
        "language": long,
        "image": {"url": "ftp://" + long, "width": list(range(100_000)), long: 1},
        long: "unknown",
        "tags": {long: long + "\x00"},
        "body": "Text.",
    }
    article, errors = article_from_fields(fields, "story", make_site(tmp_path))
    assert article is None
    assert {e.field for e in errors} >= {"title", "date", "link", "language", "image.url"}
    for error in errors:
        assert len(error.field) <= 60 and len(error.message) < SHORT, error
    assert FieldError("image.width", "must be a positive integer, not a list") in errors


# --------------------------------------------------------------------------- size


def sized(path: Path, size: int) -> Path:
    """An article of exactly ``size`` bytes (a valid one, padded with body text)."""
    path.write_bytes(GOOD.encode() + b"x" * (size - len(GOOD)))
    return path


def test_the_default_limit_is_one_megabyte(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert site.articles_max_bytes == 1_000_000
    assert load_article(sized(tmp_path / "fits.md", 1_000_000), site).slug == "fits"
    assert error_of(sized(tmp_path / "over.md", 1_000_001), site) == (
        f"{tmp_path / 'over.md'}: 1,000,001 bytes, over the 1,000,000-byte limit "
        "(articles_max_bytes)"
    )
    assert error_of(sized(tmp_path / "big.md", 5_200_000), site) == (
        f"{tmp_path / 'big.md'}: 5.2 MB, over the 1 MB limit (articles_max_bytes)"
    )


def test_an_oversized_file_is_refused_from_its_size_unread(tmp_path: Path) -> None:
    """A 50 MB file that holds nothing (sparse): refused by its size, not by reading it."""
    path = tmp_path / "huge.md"
    with path.open("wb") as file:
        file.truncate(50_000_000)
    started = time.monotonic()
    assert error_of(path, make_site(tmp_path)) == (
        f"{path}: 50 MB, over the 1 MB limit (articles_max_bytes)"
    )
    assert time.monotonic() - started < 5


def test_a_configured_limit(tmp_path: Path) -> None:
    site = make_site(tmp_path, articles_max_bytes=2000)
    assert load_article(sized(tmp_path / "fits.md", 2000), site).slug == "fits"
    assert error_of(sized(tmp_path / "over.md", 2500), site) == (
        f"{tmp_path / 'over.md'}: 2.5 kB, over the 2 kB limit (articles_max_bytes)"
    )


def site_toml(tmp_path: Path, upstream: Upstream, extra: str) -> Path:
    return write_site(tmp_path, upstream, site_extra=extra)


def test_the_limit_in_site_toml(tmp_path: Path, upstream: Upstream) -> None:
    config = site_toml(tmp_path / "a", upstream, "articles_max_bytes = 250_000")
    assert load_config(config, {}).site.articles_max_bytes == 250_000
    config = site_toml(tmp_path / "b", upstream, "")
    assert load_config(config, {}).site.articles_max_bytes == 1_000_000
    for value, problem in [
        ("0", "must be between 1000 and 100000000, not 0"),
        ("1_000_000_000", "must be between 1000 and 100000000, not 1000000000"),
        ('"1MB"', "must be an integer, not a string"),
    ]:
        config = site_toml(tmp_path / value.strip('"'), upstream, f"articles_max_bytes = {value}")
        with pytest.raises(ConfigError) as info:
            load_config(config, {})
        assert f"site.toml: articles_max_bytes: {problem}" in str(info.value)


def test_the_limit_holds_for_the_api_body(tmp_path: Path) -> None:
    site = make_site(tmp_path, articles_max_bytes=1000)
    fields = {"title": "T", "date": "2026-11-03T09:30:00+02:00"}
    article, errors = article_from_fields({**fields, "body": "x" * 1000}, "s", site)
    assert article is not None and errors == []
    # counted in UTF-8: 600 Arabic letters are 1,200 bytes
    article, errors = article_from_fields({**fields, "body": "ب" * 600}, "s", site)
    assert article is None
    assert errors == [FieldError("body", "1.2 kB, over the 1 kB limit (articles_max_bytes)")]


def test_the_api_answers_422_over_the_limit(
    site: ConfigSite, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site.config / "site.toml"
    path.write_text("articles_max_bytes = 1000\n" + path.read_text("utf-8"), encoding="utf-8")
    keys = write_access(site, capsys)
    assert site.feeds("update") == 0
    app = create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db, "TESTING": True})
    headers = {"Authorization": f"Bearer {keys['cms']}"}
    try:
        with app.test_client() as http:
            body = json.dumps({**ARTICLE, "body": "ب" * 600}, ensure_ascii=False)
            refused = http.put(
                "/api/articles/big", data=body, headers=headers, content_type="application/json"
            )
            assert refused.status_code == 422
            assert refused.get_json()["errors"] == [
                {"field": "body", "message": "1.2 kB, over the 1 kB limit (articles_max_bytes)"}
            ]
            long = http.put(
                "/api/articles/long",
                json={**ARTICLE, "date": "z" * 200_000, "link": "z" * 200_000},
                headers=headers,
            )
            assert long.status_code == 422
            assert len(long.data) < 2 * SHORT
            assert http.put("/api/articles/fits", json=ARTICLE, headers=headers).status_code == 201
    finally:
        state(app).store.close()


# --------------------------------------------------------------------------- what a file is


def test_a_symlink_out_of_the_articles_directory_is_refused(tmp_path: Path) -> None:
    articles, outside = tmp_path / "articles", tmp_path / "outside"
    articles.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text(GOOD.replace("Good", "Secret"), encoding="utf-8")
    (articles / "a-good.md").write_text(GOOD, encoding="utf-8")
    (articles / "leak.md").symlink_to(outside / "secret.md")
    (articles / "dangling.md").symlink_to(articles / "nowhere.md")
    (articles / "sub").symlink_to(outside)  # a directory out: not searched
    found, problems = load_articles(make_site(articles))
    assert [a.title for a in found] == ["Good"]
    assert problems == [
        f"{articles / 'dangling.md'}: a symbolic link to a file that does not exist",
        f"{articles / 'leak.md'}: a symbolic link to a file outside the articles directory, "
        "which is not read",
    ]
    # named directly, through the linked directory: refused all the same
    message = error_of(articles / "sub" / "secret.md", make_site(articles))
    assert "outside the articles directory" in message


def test_a_directory_swapped_for_a_link_while_the_file_is_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path is checked, then a directory on it is replaced by a link out before the file
    is opened: what was opened is refused, not published."""
    articles, outside = tmp_path / "articles", tmp_path / "outside"
    (articles / "desk").mkdir(parents=True)
    (outside / "desk").mkdir(parents=True)
    (articles / "desk" / "story.md").write_text(GOOD, encoding="utf-8")
    (outside / "desk" / "story.md").write_text(GOOD.replace("Good", "Secret"), encoding="utf-8")
    real_stat = os.stat
    swapped = []

    def stat_then_swap(path: object, *args: object, **kwargs: object) -> os.stat_result:
        found = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if str(path) == str(articles / "desk" / "story.md") and not swapped:
            (articles / "desk").rename(articles / "desk-was")  # after the check, before the open
            (articles / "desk").symlink_to(outside / "desk")
            swapped.append(path)
        return found

    monkeypatch.setattr(os, "stat", stat_then_swap)
    message = error_of(articles / "desk" / "story.md", make_site(articles))
    monkeypatch.undo()
    assert swapped  # the swap came between the check and the open
    assert message.endswith("a file outside the articles directory, which is not read")
    assert "Secret" not in message


def test_a_symlink_inside_the_articles_directory_is_an_article(tmp_path: Path) -> None:
    """As a Kubernetes volume mounts files: links into a hidden folder of the directory."""
    (tmp_path / "..data").mkdir()
    (tmp_path / "..data" / "story.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "story.md").symlink_to(Path("..data") / "story.md")
    found, problems = load_articles(make_site(tmp_path))
    assert problems == []
    assert [(a.slug, a.path, a.title) for a in found] == [("story", "story.md", "Good")]


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.md"
    os.mkfifo(path)
    yield path
    # Should a reader be stuck waiting on it, a writer lets it go (with no reader, opening
    # fails: nothing waits).
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_a_fifo_is_refused_without_waiting(tmp_path: Path, fifo: Path) -> None:
    (tmp_path / "a-good.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "folder.md").mkdir()  # a directory named *.md: passed over, searched
    (tmp_path / "folder.md" / "inner.md").write_text(GOOD, encoding="utf-8")
    result: list[tuple[list[str], list[str]]] = []

    def load() -> None:
        found, problems = load_articles(make_site(tmp_path))
        result.append(([a.path for a in found], problems))

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert result, "load_articles waited on a FIFO"
    assert result == [
        (
            ["a-good.md", "folder.md/inner.md"],
            [f"{fifo}: not a regular file but a FIFO (named pipe), which is not read"],
        )
    ]


# --------------------------------------------------------------------------- the commands


def plant_bad_files(articles: Path, outside: Path) -> list[str]:
    """One file over each limit next to the good ones; the problem lines they give."""
    (articles / "bomb.md").write_text(laughs(6), encoding="utf-8")
    sized(articles / "big.md", 3000)
    outside.mkdir(exist_ok=True)
    (outside / "secret.md").write_text(GOOD, encoding="utf-8")
    (articles / "leak.md").symlink_to(outside / "secret.md")
    os.mkfifo(articles / "pipe.md")
    return [
        f"{articles / 'big.md'}: 3 kB, over the 2 kB limit (articles_max_bytes)",
        f"{articles / 'bomb.md'}: front matter: YAML anchors (&name) are not allowed "
        "(line 4, column 5)",
        f"{articles / 'leak.md'}: a symbolic link to a file outside the articles directory, "
        "which is not read",
        f"{articles / 'pipe.md'}: not a regular file but a FIFO (named pipe), which is not read",
    ]


def test_feeds_check_reports_each_limit(
    tmp_path: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    from feeds.cli import main

    config = site_toml(tmp_path, upstream, "articles_max_bytes = 2000")
    expected = plant_bad_files(config / "articles", tmp_path / "outside")
    capsys.readouterr()
    assert main(["--config", str(config), "check"]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == expected
    assert out.endswith(", 2 articles, 4 bad article files\n")


def test_feeds_update_publishes_the_other_articles(
    site: ConfigSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site.config / "site.toml"
    path.write_text("articles_max_bytes = 2000\n" + path.read_text("utf-8"), encoding="utf-8")
    plant_bad_files(site.config / "articles", tmp_path / "outside")
    capsys.readouterr()
    assert site.feeds("update") == 0
    out = capsys.readouterr().out
    assert "articles: 2 (2 added, 0 updated, 0 removed, 4 bad files skipped)" in out
    store = Store(site.db)
    try:
        document = store.get_document("ours", Format.RSS)
        assert document is not None
        assert len(feedparser.parse(document.body).entries) == 2
    finally:
        store.close()


@pytest.fixture
def clock(tmp_path: Path, upstream: Upstream) -> Iterator[Clock]:
    upstream.set("/wire.xml", (FIXTURES / "upstream" / "wire.xml").read_bytes())
    upstream.set("/un.atom", (FIXTURES / "upstream" / "un.atom").read_bytes())
    watcher = ConfigWatcher(site_toml(tmp_path, upstream, "articles_max_bytes = 2000"))
    store = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    pipeline = Pipeline(watcher.current, store)
    c = Clock(pipeline, watcher)
    c.heartbeat_job(activate=False)
    c.scheduler.start(paused=True)
    yield c
    c.shutdown()
    pipeline.close()
    store.close()


def test_the_clock_logs_each_bad_file_and_publishes_the_others(
    clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feeds")
    expected = plant_bad_files(clock.pipeline.config.site.articles_dir, tmp_path / "outside")
    clock.articles_job()
    logged = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("article problem")
    ]
    assert sorted(logged) == sorted(f"article problem: {line}" for line in expected)
    assert all(len(line) < SHORT for line in logged)
    document = clock.pipeline.store.get_document("ours", Format.RSS)
    assert document is not None
    assert len(feedparser.parse(document.body).entries) == 2
    caplog.clear()
    clock.articles_job()  # read again: nothing new to say, nothing waits
    assert not [r for r in caplog.records if r.getMessage().startswith("article problem")]


def test_clip_and_quoted() -> None:
    from feeds.text import clip, quoted

    assert clip("a" * 60) == "a" * 60
    assert clip("a" * 61) == "a" * 59 + "…"
    assert len(clip("b" * 10**6)) == 60
    assert quoted("x" * 100, 10) == "'" + "x" * 9 + "…'"
    assert quoted("it's") == '"it\'s"'

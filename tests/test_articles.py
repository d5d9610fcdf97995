"""Local articles: the shipped ones, bad files, rendering, hashes, defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.articles import load_article, load_articles
from feeds.config import load_config
from feeds.errors import ArticleError
from feeds.types import Site

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
---
title: "A good article"
date: 2026-11-03T09:30:00+02:00
author: Rania Abou-Zeïd
tags: [lebanon]
---
The "first" paragraph -- with a [related story](other-story) and ![a map](/media/map.png).

Second paragraph with [an absolute link](https://example.org/x).
"""


def make_site(articles_dir: Path, link: str = "https://levantledger.news/") -> Site:
    return Site(
        title="The Levant Ledger",
        link=link,
        base_url="http://127.0.0.1:8000",
        description="Test",
        language="en",
        articles_dir=articles_dir,
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def front(**keys: str) -> str:
    lines = [f"{key}: {value}" for key, value in keys.items()]
    return "---\n" + "\n".join(lines) + "\n---\nBody text.\n"


BASE = {"title": "Title", "date": "2026-11-03T09:30:00+02:00"}


def error_for(tmp_path: Path, text: str, name: str = "story.md") -> str:
    path = write(tmp_path, name, text)
    with pytest.raises(ArticleError) as info:
        load_article(path, make_site(tmp_path))
    return str(info.value)


# --------------------------------------------------------------------------- shipped articles


def test_shipped_articles_load_without_problems() -> None:
    config = load_config(ROOT / "config", {})
    articles, problems = load_articles(config.site)
    assert problems == []
    assert len(articles) >= 5
    assert [a.path for a in articles] == sorted(a.path for a in articles)
    assert len({a.slug for a in articles}) == len(articles)
    for article in articles:
        assert article.title and article.summary and article.content
        assert article.authors and any(not a.isascii() for a in article.authors), article.slug
        assert article.image is not None and article.image.caption and article.image.credit
        assert article.image.width and article.image.height
        assert article.tags
        assert article.published.tzinfo is UTC
        assert (
            datetime(2026, 11, 1, tzinfo=UTC)
            <= article.published
            < datetime(2026, 12, 1, tzinfo=UTC)
        )
        assert article.link.startswith(config.site.link)
        assert article.content.count("<p>") >= 4
        assert 'href="https://levantledger.news/' in article.content  # related link, absolute
        assert any(q in article.content for q in "“”‘’")
        assert len(article.content_hash) == 64
    assert any(a.updated > a.published for a in articles)
    assert any("\u0600" <= a.title[0] <= "\u06ff" for a in articles)  # one in Arabic
    humanitarian = [a for a in articles if "humanitarian" in a.tags]
    assert humanitarian


# --------------------------------------------------------------------------- bad files


def test_bad_files_are_reported_and_skipped(tmp_path: Path) -> None:
    write(tmp_path, "a-good.md", GOOD)
    write(tmp_path, "b-no-title.md", front(date=BASE["date"]))
    write(tmp_path, "c-naive-date.md", front(title="T", date="2026-11-03T09:30:00"))
    write(tmp_path, "d-bad-yaml.md", "---\ntitle: [unclosed\ndate: x\n---\nBody\n")
    write(tmp_path, "e-unknown-key.md", front(**BASE, colour="red"))
    write(tmp_path, "f-bad-image.md", front(**BASE, image="{caption: no url}"))
    write(tmp_path, "sub/g-good-too.md", GOOD.replace("A good article", "Another"))
    articles, problems = load_articles(make_site(tmp_path))
    assert [a.slug for a in articles] == ["a-good", "g-good-too"]
    assert [a.path for a in articles] == ["a-good.md", "sub/g-good-too.md"]
    assert problems == [
        f"{tmp_path / 'b-no-title.md'}: title: missing required key",
        f"{tmp_path / 'c-naive-date.md'}: date: needs a UTC offset",
        f"{tmp_path / 'd-bad-yaml.md'}: front matter: invalid YAML at line 3, column 5: "
        "expected ',' or ']', but got ':'",
        f"{tmp_path / 'e-unknown-key.md'}: colour: unknown key",
        f"{tmp_path / 'f-bad-image.md'}: image.url: missing required key",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter\n", "front matter: missing (the file must start with a '---' line)"),
        ("---\ntitle: x\n", "front matter: no closing '---' line"),
        ("---\n- a\n- b\n---\n", "front matter: must be a mapping of keys, not list"),
        ("---\n---\nbody\n", "title: missing required key; date: missing required key"),
        (front(title="T", date="2026-11-03 09:30:00"), "date: needs a UTC offset"),
        (
            front(title="T", date="2026-11-03"),
            "date: needs a time and a UTC offset, e.g. 2026-11-03T09:30:00+02:00",
        ),
        (
            front(title="T", date="'next tuesday'"),
            "date: not an ISO 8601 date and time: 'next tuesday'",
        ),
        (front(title="T", date="'2026-11-03T09:30:00'"), "date: needs a UTC offset"),
        (front(**BASE, updated="2026-11-03T09:00:00+02:00"), "updated: is earlier than date"),
        (front(**BASE, updated="2026-11-03T10:00:00"), "updated: needs a UTC offset"),
        (front(title="''", date=BASE["date"]), "title: must not be empty"),
        (front(title="[a, b]", date=BASE["date"]), "title: must be a string, not a list"),
        (front(**BASE, author="[a, 3]"), "author: must be a name or a list of names"),
        (front(**BASE, summary="3"), "summary: must be a string, not a number"),
        (front(**BASE, tags="news"), "tags: must be a list of non-empty strings"),
        (
            front(**BASE, slug="Not A Slug"),
            "slug: not a slug (up to 100 lower-case letters, digits, '.', '_', '-'): 'Not A Slug'",
        ),
        (front(**BASE, link="/relative"), "link: not an absolute http(s) URL: '/relative'"),
        (
            front(**BASE, image="https://x.example/a.jpg"),
            "image: must be a mapping with at least url, not a string",
        ),
        (
            front(**BASE, image="{url: 'ftp://x/a.jpg'}"),
            "image.url: not an http(s) URL: 'ftp://x/a.jpg'",
        ),
        (
            front(**BASE, image="{url: a.jpg, width: wide}"),
            "image.width: must be a positive integer, not 'wide'",
        ),
        (
            front(**BASE, image="{url: a.jpg, height: 0}"),
            "image.height: must be a positive integer, not 0",
        ),
        (front(**BASE, image="{url: a.jpg, alt: x}"), "image.alt: unknown key"),
        (
            front(**BASE, image="{url: a.jpg, credit: [a]}"),
            "image.credit: must be a string, not a list",
        ),
    ],
)
def test_article_problems(tmp_path: Path, text: str, problem: str) -> None:
    assert error_for(tmp_path, text) == f"{tmp_path / 'story.md'}: {problem}"


def test_several_problems_in_one_file(tmp_path: Path) -> None:
    text = front(title="T", date="2026-11-03T09:30:00", colour="red", tags="x")
    assert error_for(tmp_path, text) == (
        f"{tmp_path / 'story.md'}: colour: unknown key; date: needs a UTC offset; "
        "tags: must be a list of non-empty strings"
    )


def test_file_name_must_be_a_slug_without_slug_key(tmp_path: Path) -> None:
    assert error_for(tmp_path, front(**BASE), name="My Story.md") == (
        f"{tmp_path / 'My Story.md'}: slug: the file name 'My Story' is not a slug; rename the "
        "file or set slug"
    )
    article = load_article(
        write(tmp_path, "My Story.md", front(**BASE, slug="my-story")), make_site(tmp_path)
    )
    assert article.slug == "my-story"


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_bytes(b"---\ntitle: \xff\n---\n")
    with pytest.raises(ArticleError, match="not valid UTF-8"):
        load_article(path, make_site(tmp_path))


def test_duplicate_slug_reports_second_file(tmp_path: Path) -> None:
    write(tmp_path, "a.md", front(**BASE, slug="same"))
    write(tmp_path, "b.md", front(**BASE, slug="same"))
    articles, problems = load_articles(make_site(tmp_path))
    assert [a.path for a in articles] == ["a.md"]
    assert problems == [f"{tmp_path / 'b.md'}: slug: 'same' is already used by a.md"]


def test_missing_articles_dir(tmp_path: Path) -> None:
    assert load_articles(make_site(tmp_path / "nope")) == (
        [],
        [f"{tmp_path / 'nope'}: directory not found"],
    )


def test_hidden_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, ".draft.md", "not even front matter")
    write(tmp_path, ".git/x.md", "nor this")
    write(tmp_path, "notes.txt", "or this")
    assert load_articles(make_site(tmp_path)) == ([], [])


# --------------------------------------------------------------------------- rendering


def test_rendering(tmp_path: Path) -> None:
    article = load_article(write(tmp_path, "good.md", GOOD), make_site(tmp_path))
    assert article.content == (
        "<p>The “first” paragraph – with a "
        '<a href="https://levantledger.news/other-story">related story</a> and '
        '<img src="https://levantledger.news/media/map.png" alt="a map" />.</p>\n'
        '<p>Second paragraph with <a href="https://example.org/x">an absolute link</a>.</p>\n'
    )
    assert article.summary == "The “first” paragraph – with a related story and ."
    assert article.title == "A good article"
    assert article.authors == ("Rania Abou-Zeïd",)


def test_raw_html_is_not_rendered(tmp_path: Path) -> None:
    text = front(**BASE).replace("Body text.", "<script>alert(1)</script>\n\nSafe <b>bold</b>.")
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert "<script>" not in article.content and "<b>" not in article.content
    assert "&lt;script&gt;" in article.content


def test_links_resolve_against_the_article_link(tmp_path: Path) -> None:
    text = front(**BASE, link="https://levantledger.news/2026/11/story").replace(
        "Body text.", "[next](next-story) [top](/) [frag](#x)"
    )
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert 'href="https://levantledger.news/2026/11/next-story"' in article.content
    assert 'href="https://levantledger.news/"' in article.content
    assert 'href="https://levantledger.news/2026/11/story#x"' in article.content


def test_summary_fallback_is_truncated_on_a_word_boundary(tmp_path: Path) -> None:
    words = " ".join(f"word{i}" for i in range(100))
    text = "---\ntitle: T\ndate: 2026-11-03T09:30:00+02:00\n---\n![photo](p.jpg)\n\n" + words
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert article.summary.endswith("…")
    assert len(article.summary) <= 300
    assert article.summary[:-1] == words[: len(article.summary) - 1]
    assert words[len(article.summary) - 1] == " "  # cut between words


def test_summary_from_front_matter_is_plain_text(tmp_path: Path) -> None:
    text = front(**BASE, summary="'A   dek *with* \"quotes\"\n  and spaces'")
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert article.summary == 'A dek *with* "quotes" and spaces'


def test_empty_body(tmp_path: Path) -> None:
    text = "---\ntitle: T\ndate: 2026-11-03T09:30:00+02:00\n---\n"
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert article.content == "" and article.summary == ""


# --------------------------------------------------------------------------- values


def test_dates_become_utc_without_microseconds(tmp_path: Path) -> None:
    text = front(
        title="T", date="2026-11-03T09:30:00.123456+02:00", updated="'2026-11-04T01:00:00Z'"
    )
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert article.published == datetime(2026, 11, 3, 7, 30, tzinfo=UTC)
    assert article.updated == datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
    assert article.published.tzinfo is UTC and article.updated.tzinfo is UTC


def test_updated_defaults_to_date(tmp_path: Path) -> None:
    article = load_article(write(tmp_path, "s.md", front(**BASE)), make_site(tmp_path))
    assert article.updated == article.published


def test_slug_and_link_defaults(tmp_path: Path) -> None:
    site = make_site(tmp_path, link="https://levantledger.news")  # no trailing slash
    article = load_article(write(tmp_path, "beirut-port.md", front(**BASE)), site)
    assert article.slug == "beirut-port"
    assert article.link == "https://levantledger.news/beirut-port"
    assert article.path == "beirut-port.md"

    site = make_site(tmp_path, link="https://levantledger.news/en/")
    article = load_article(write(tmp_path, "x.md", front(**BASE, slug="other")), site)
    assert article.link == "https://levantledger.news/en/other"

    text = front(**BASE, link="https://elsewhere.example/story")
    article = load_article(write(tmp_path, "y.md", text), site)
    assert article.slug == "y" and article.link == "https://elsewhere.example/story"


def test_authors_tags_and_image(tmp_path: Path) -> None:
    text = front(
        **BASE,
        author="[Nour al-Hāshimī, Ömer Çelik]",
        tags="[gaza, aid, gaza]",
        image="{url: /media/a.JPG, caption: 'A caption', credit: 'Photo: AFP', width: 1600,"
        " height: 900}",
    )
    article = load_article(write(tmp_path, "s.md", text), make_site(tmp_path))
    assert article.authors == ("Nour al-Hāshimī", "Ömer Çelik")
    assert article.tags == ("gaza", "aid")
    assert article.image is not None
    assert article.image.url == "https://levantledger.news/media/a.JPG"
    assert (article.image.caption, article.image.credit) == ("A caption", "Photo: AFP")
    assert (article.image.width, article.image.height) == (1600, 900)
    assert article.image.type == "image/jpeg"


def test_content_hash_tracks_edits_not_paths(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    path = write(tmp_path, "s.md", GOOD)
    first = load_article(path, site)
    assert load_article(path, site).content_hash == first.content_hash
    write(tmp_path, "s.md", GOOD.replace("Second paragraph", "Second, edited paragraph"))
    assert load_article(path, site).content_hash != first.content_hash

    moved = write(tmp_path, "sub/s.md", GOOD)
    again = load_article(moved, site)
    assert again.path == "sub/s.md"
    assert again.content_hash == first.content_hash


def test_yaml_that_crashes_the_parser_is_reported_not_raised(tmp_path: Path) -> None:
    """PyYAML raises ValueError (not YAMLError) for impossible dates and RecursionError for
    absurd nesting; such a file is reported and skipped like any other bad file."""
    site = make_site(tmp_path)
    (tmp_path / "a-good.md").write_text(
        "---\ntitle: Good\ndate: 2026-11-02T10:00:00+02:00\n---\nBody.\n", encoding="utf-8"
    )
    (tmp_path / "b-feb-30.md").write_text(
        "---\ntitle: Bad\ndate: 2026-02-30T09:00:00+02:00\n---\nBody.\n", encoding="utf-8"
    )
    (tmp_path / "c-nested.md").write_text(
        "---\ntitle: Deep\ndate: 2026-11-02T10:00:00+02:00\ntags: " + "[" * 5000 + "\n---\n",
        encoding="utf-8",
    )
    found, problems = load_articles(site)
    assert [a.slug for a in found] == ["a-good"]
    assert len(problems) == 2
    assert problems[0].startswith(f"{tmp_path / 'b-feb-30.md'}: front matter: invalid YAML")
    assert problems[1].startswith(f"{tmp_path / 'c-nested.md'}: ")

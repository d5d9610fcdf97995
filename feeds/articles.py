"""The outlet's own articles: one Markdown file each, with YAML front matter.

This is the only module that uses PyYAML and markdown-it-py. Markdown from the outlet's editors
is trusted, but raw HTML is still disabled: the body is rendered from Markdown alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from feeds.config import LANGUAGE_RE, is_http_url, is_slug
from feeds.errors import ArticleError
from feeds.text import SUMMARY_LENGTH, collapse, cut, storable_text
from feeds.times import utc
from feeds.types import Article, Image, Site
from feeds.urls import image_type

ARTICLE_KEYS = frozenset(
    {"title", "date", "updated", "author", "summary", "slug", "link", "tags", "image", "language"}
)
IMAGE_KEYS = frozenset({"url", "caption", "credit", "width", "height"})
# The fields of an article pushed over the API: the front matter (its slug is the URL's) and
# its Markdown body.
API_KEYS = (ARTICLE_KEYS - {"slug"}) | {"body"}
API_PATH = ""  # Article.path of an API article: it comes from no file


def _markdown(smart_quotes: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["replacements", "smartquotes"] if smart_quotes else ["replacements"])
    return md


# markdown-it's curly quotes are English typography: an article in another language (Arabic,
# French...) keeps its quotes as typed.
_MD = _markdown(smart_quotes=True)
_MD_AS_TYPED = _markdown(smart_quotes=False)


def _smart_quotes(language: str) -> bool:
    return language.lower().split("-")[0] == "en"


_Report = Callable[[str, str], None]  # (key, problem)


@dataclass(frozen=True)
class FieldError:
    """One problem of one field (``image.url``); ``field`` is "" for the whole document."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class _Invalid(Exception):
    """Problems found in one file; collected, then raised as one ArticleError."""


# --------------------------------------------------------------------------- loading


def load_articles(
    site: Site, files: Sequence[Path] | None = None
) -> tuple[list[Article], list[str]]:
    """Load every ``*.md`` under ``site.articles_dir`` (recursively, in sorted path order),
    or the given `files` (as article_files listed them).

    Returns the articles and the problems: one ``FILE: problem`` line per bad file, which is
    skipped. A file whose slug is already taken by an earlier file is reported and skipped.
    """
    root = site.articles_dir
    if not root.is_dir():
        return [], [f"{root}: directory not found"]
    articles: list[Article] = []
    problems: list[str] = []
    slugs: dict[str, str] = {}
    for path in article_files(site) if files is None else files:
        try:
            article = load_article(path, site)
        except ArticleError as e:
            problems.append(str(e))
            continue
        if article.slug in slugs:
            problems.append(
                f"{path}: slug: {article.slug!r} is already used by {slugs[article.slug]}"
            )
            continue
        slugs[article.slug] = article.path
        articles.append(article)
    return articles, problems


def article_files(site: Site) -> list[Path]:
    """Every article file under the articles directory, in sorted order (hidden files and
    directories, such as editor back-ups, left out)."""
    root = site.articles_dir
    if not root.is_dir():
        return []
    paths = sorted(
        (p for p in root.rglob("*.md") if p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    return [p for p in paths if not any(x.startswith(".") for x in p.relative_to(root).parts)]


def relative_path(path: Path, site: Site) -> str:
    """How an article's file is named in Article.path."""
    try:
        return path.resolve().relative_to(site.articles_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def load_article(path: Path, site: Site) -> Article:
    """Load one article file. Raises ArticleError("FILE: key: problem[; key: problem]")."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ArticleError(f"{path}: not valid UTF-8 (byte {e.start})") from e
    except OSError as e:
        raise ArticleError(f"{path}: cannot read: {e.strerror or e}") from e
    rel = relative_path(path, site)
    problems: list[FieldError] = []
    try:
        front, body = _split_front_matter(text)
        article = _build(front, body, path.stem, rel, site, problems)
    except _Invalid as e:
        problems.append(FieldError("", str(e)))
        article = None
    except Exception as e:  # one odd file must never stop the others
        problems.append(FieldError("", f"cannot be read as an article: {type(e).__name__}: {e}"))
        article = None
    if problems or article is None:
        raise ArticleError(f"{path}: " + "; ".join(map(str, problems)))
    return article


def article_from_fields(
    fields: Mapping[str, Any], slug: str, site: Site
) -> tuple[Article | None, list[FieldError]]:
    """An article pushed over the API: the front-matter fields and ``body`` (Markdown), its
    slug given apart (the URL's), checked by the same rules as an article file. Returns the
    article, or None and one error per bad field (the first found for each)."""
    problems: list[FieldError] = []
    for key, value in _strings(fields, ""):
        if storable_text(value) != value:
            problems.append(FieldError(key, "holds control characters or unpaired surrogates"))
    front = {k: v for k, v in fields.items() if k != "body"}
    for key in front:
        if key not in API_KEYS:
            problems.append(FieldError(key, "unknown field"))
    front = {k: v for k, v in front.items() if k in API_KEYS}
    body = fields.get("body", "")
    if not isinstance(body, str):
        problems.append(FieldError("body", f"must be a string (Markdown), not {_yaml_type(body)}"))
        body = ""
    article = None
    try:
        article = _build({**front, "slug": slug}, body, slug, API_PATH, site, problems)
    except Exception as e:  # odd input is a problem of the input, never a crash
        problems.append(FieldError("", f"cannot be read as an article: {type(e).__name__}"))
    first: dict[str, FieldError] = {}
    for problem in problems:
        first.setdefault(problem.field, problem)
    return (None, list(first.values())) if first else (article, [])


def _strings(value: object, path: str) -> list[tuple[str, str]]:
    """(field path, text) of every string in a JSON value."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [
            found
            for key, item in value.items()
            for found in _strings(item, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [found for item in value for found in _strings(item, path)]
    return []


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise _Invalid("front matter: missing (the file must start with a '---' line)")
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            yaml_text = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            break
    else:
        raise _Invalid("front matter: no closing '---' line")
    try:
        data = yaml.safe_load(yaml_text)
    except yaml.MarkedYAMLError as e:
        where = ""
        if e.problem_mark is not None:
            # +2: one for 1-based numbering, one for the opening '---' line.
            where = f" at line {e.problem_mark.line + 2}, column {e.problem_mark.column + 1}"
        raise _Invalid(f"front matter: invalid YAML{where}: {e.problem or e}") from e
    except yaml.YAMLError as e:
        raise _Invalid(f"front matter: invalid YAML: {e}") from e
    except (ValueError, RecursionError) as e:
        # PyYAML raises these for impossible timestamps (2026-02-30) and absurd nesting.
        raise _Invalid(f"front matter: invalid YAML: {e}") from e
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Invalid(f"front matter: must be a mapping of keys, not {type(data).__name__}")
    return data, body


# --------------------------------------------------------------------------- front matter


def _build(
    front: Mapping[Any, Any],
    body: str,
    stem: str,
    rel: str,
    site: Site,
    problems: list[FieldError],
) -> Article | None:
    def problem(key: str, message: str) -> None:
        problems.append(FieldError(key, message))

    for key in front:
        if key not in ARTICLE_KEYS:
            problem(str(key), "unknown key")

    title = _text(front, "title", problem, required=True)
    published = _datetime(front, "date", problem, required=True)
    updated = _datetime(front, "updated", problem, required=False)
    if published is not None and updated is not None and updated < published:
        problem("updated", "is earlier than date")
    authors = _authors(front, problem)
    summary = _text(front, "summary", problem)
    tags = _tags(front, problem)

    slug: str | None = stem
    if "slug" in front:
        slug = _text(front, "slug", problem, required=True)
        if slug is not None and not is_slug(slug):
            problem(
                "slug",
                f"not a slug (up to 100 lower-case letters, digits, '.', '_', '-'): {slug!r}",
            )
            slug = None
    elif not is_slug(stem):
        problem("slug", f"the file name {stem!r} is not a slug; rename the file or set slug")
        slug = None

    link: str | None = None
    if "link" in front:
        link = _text(front, "link", problem, required=True)
        if link is not None and not is_http_url(link):
            problem("link", f"not an absolute http(s) URL: {link!r}")
            link = None
    elif slug is not None:
        link = urljoin(site.link.rstrip("/") + "/", slug)

    image = _image(front.get("image"), link or site.link, problem) if "image" in front else None

    language = _text(front, "language", problem) or ""
    if language and not LANGUAGE_RE.match(language):
        problem("language", f"not a language tag such as 'en' or 'ar': {language!r}")
    if language == site.language:
        language = ""  # only a language that differs from the feed's is worth stating

    if problems:
        return None
    assert title is not None and published is not None and slug is not None
    assert link is not None and summary is not None and tags is not None and authors is not None
    content, first_paragraph = _render(body, link, _smart_quotes(language or site.language))
    article = Article(
        slug=slug,
        title=title,
        link=link,
        published=published,
        updated=updated or published,
        authors=authors,
        summary=summary or cut(first_paragraph, SUMMARY_LENGTH),
        content=content,
        tags=tags,
        image=image,
        path=rel,
        language=language,
    )
    return _with_hash(article)


def _with_hash(article: Article) -> Article:
    fields = asdict(article)
    del fields["path"], fields["content_hash"]
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return replace(article, content_hash=digest)


def _text(
    front: Mapping[Any, Any], key: str, problem: _Report, *, required: bool = False
) -> str | None:
    """Plain text with whitespace collapsed; "" when optional and missing."""
    if key not in front:
        if required:
            problem(key, "missing required key")
            return None
        return ""
    value = front[key]
    if not isinstance(value, str):
        problem(key, f"must be a string, not {_yaml_type(value)}")
        return None
    value = collapse(value)
    if required and not value:
        problem(key, "must not be empty")
        return None
    return value


def _datetime(
    front: Mapping[Any, Any], key: str, problem: _Report, *, required: bool
) -> datetime | None:
    if key not in front:
        if required:
            problem(key, "missing required key")
        return None
    value = front[key]
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            problem(key, f"not an ISO 8601 date and time: {front[key]!r}")
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        problem(key, "needs a time and a UTC offset, e.g. 2026-11-03T09:30:00+02:00")
        return None
    if not isinstance(value, datetime):
        problem(key, f"must be an ISO 8601 date and time, not {_yaml_type(value)}")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        problem(key, "needs a UTC offset")
        return None
    return utc(value)


def _authors(front: Mapping[Any, Any], problem: _Report) -> tuple[str, ...] | None:
    value = front.get("author", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem("author", "must be a name or a list of names")
        return None
    return tuple(dict.fromkeys(collapse(v) for v in value))


def _tags(front: Mapping[Any, Any], problem: _Report) -> tuple[str, ...] | None:
    value = front.get("tags", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem("tags", "must be a list of non-empty strings")
        return None
    return tuple(dict.fromkeys(v.strip() for v in value))


def _image(value: object, base: str, problem: _Report) -> Image | None:
    if not isinstance(value, dict):
        problem("image", f"must be a mapping with at least url, not {_yaml_type(value)}")
        return None
    ok = True
    for key in value:
        if key not in IMAGE_KEYS:
            problem(f"image.{key}", "unknown key")
            ok = False
    url = value.get("url")
    if url is None:
        problem("image.url", "missing required key")
        ok = False
    elif not isinstance(url, str) or not url.strip():
        problem("image.url", "must be a non-empty string")
        ok = False
    else:
        url = urljoin(base, url.strip())
        if not is_http_url(url):
            problem("image.url", f"not an http(s) URL: {value['url']!r}")
            ok = False
    texts: dict[str, str] = {}
    for key in ("caption", "credit"):
        text = value.get(key, "")
        if not isinstance(text, str):
            problem(f"image.{key}", f"must be a string, not {_yaml_type(text)}")
            ok = False
        else:
            texts[key] = collapse(text)
    sizes: dict[str, int | None] = {}
    for key in ("width", "height"):
        size = value.get(key)
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            problem(f"image.{key}", f"must be a positive integer, not {size!r}")
            ok = False
        else:
            sizes[key] = size
    if not ok:
        return None
    assert isinstance(url, str)
    return Image(
        url=url,
        caption=texts["caption"],
        credit=texts["credit"],
        width=sizes["width"],
        height=sizes["height"],
        type=image_type(url),
    )


def _yaml_type(value: object) -> str:
    if value is None:
        return "empty"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        date: "a date",
        datetime: "a date",
    }.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- rendering


def _render(body: str, base: str, smart_quotes: bool = True) -> tuple[str, str]:
    """Markdown → (HTML with absolute links, plain text of the first non-empty paragraph);
    straight quotes made curly only with ``smart_quotes`` (English)."""
    md = _MD if smart_quotes else _MD_AS_TYPED
    env: dict[str, Any] = {}
    tokens = md.parse(body, env)
    first_paragraph = ""
    in_paragraph = False
    for token in tokens:
        if token.type == "paragraph_open":
            in_paragraph = True
        elif token.type == "paragraph_close":
            in_paragraph = False
        elif token.type == "inline" and token.children:
            _absolutize(token.children, base)
            if in_paragraph and not first_paragraph:
                first_paragraph = _plain_text(token.children)
    html = md.renderer.render(tokens, md.options, env)
    return html.strip() + "\n" if html.strip() else "", first_paragraph


def _absolutize(children: list[Token], base: str) -> None:
    for child in children:
        attr = {"link_open": "href", "image": "src"}.get(child.type)
        if attr is None:
            continue
        value = child.attrGet(attr)
        if isinstance(value, str) and value:
            child.attrSet(attr, urljoin(base, value))
        if child.children:
            _absolutize(child.children, base)


def _plain_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return collapse("".join(parts))

"""The outlet's own articles: one Markdown file each, with YAML front matter.

This is the only module that uses markdown-it-py; the file is read and its front matter parsed
(PyYAML) by ``feeds.frontmatter``, within limits. Markdown from the outlet's editors is trusted,
but raw HTML is still disabled: the body is rendered from Markdown alone. A message about a bad
value quotes at most a few dozen characters of it (``feeds.text.quoted``), and never the whole
of a list or mapping: what an article or an API call holds must not make its error large.
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

from markdown_it import MarkdownIt
from markdown_it.token import Token

from feeds.config import LANGUAGE_RE, is_http_url, is_slug
from feeds.errors import ArticleError
from feeds.frontmatter import FileProblem, over_limit, read_article_file, split_front_matter
from feeds.text import SUMMARY_LENGTH, clip, collapse, cut, quoted, storable_text
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
    directories, such as editor back-ups, left out). Directories named ``*.md`` are not
    files; anything else so named is, and ``load_article`` says why it cannot be read (a FIFO,
    a symbolic link out of the directory or to nothing)."""
    root = site.articles_dir
    if not root.is_dir():
        return []
    paths = sorted(
        (p for p in root.rglob("*.md") if not p.is_dir()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    return [p for p in paths if not any(x.startswith(".") for x in p.relative_to(root).parts)]


def relative_path(path: Path, site: Site) -> str:
    """How an article's file is named in Article.path (a symbolic link by its own name)."""
    try:
        resolved = path.parent.resolve() / path.name
        return resolved.relative_to(site.articles_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def load_article(path: Path, site: Site) -> Article:
    """Load one article file. Raises ArticleError("FILE: key: problem[; key: problem]").

    Only a regular file inside the articles directory (itself or through a symbolic link)
    of at most ``site.articles_max_bytes`` is read (``feeds.frontmatter``)."""
    try:
        text = read_article_file(path, site.articles_dir, site.articles_max_bytes)
    except FileProblem as e:
        raise ArticleError(f"{path}: {e}") from e
    rel = relative_path(path, site)
    problems: list[FieldError] = []
    try:
        front, body = split_front_matter(text)
        article = _build(front, body, path.stem, rel, site, problems)
    except FileProblem as e:
        problems.append(FieldError("", str(e)))
        article = None
    except Exception as e:  # one odd file must never stop the others
        detail = f"{type(e).__name__}: {clip(str(e), 120)}"
        problems.append(FieldError("", f"cannot be read as an article: {detail}"))
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
            problems.append(FieldError(_name(key), "unknown field"))
    front = {k: v for k, v in front.items() if k in API_KEYS}
    body = fields.get("body", "")
    if not isinstance(body, str):
        problems.append(FieldError("body", f"must be a string (Markdown), not {_yaml_type(body)}"))
        body = ""
    elif (size := _utf8_size(body)) > site.articles_max_bytes:
        # The limit of an article file holds for the Markdown pushed over the API too.
        problems.append(FieldError("body", over_limit(size, site.articles_max_bytes)))
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


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _name(key: object) -> str:
    """A key as a problem names it: at most a few dozen characters of it."""
    return clip(str(key))


def _shown(value: object) -> str:
    """A bad value as a message quotes it: a string or a number clipped, anything else by
    its type alone (a list or mapping is never written out, however large it is)."""
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, bool | float) or (isinstance(value, int) and value.bit_length() < 64):
        return repr(value)
    return _yaml_type(value)


def _strings(value: object, path: str) -> list[tuple[str, str]]:
    """(field path, text) of every string in a JSON value."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [
            found
            for key, item in value.items()
            for found in _strings(item, _name(f"{path}.{key}" if path else key))
        ]
    if isinstance(value, list):
        return [found for item in value for found in _strings(item, path)]
    return []


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
            problem(_name(key), "unknown key")

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
                f"not a slug (up to 100 lower-case letters, digits, '.', '_', '-'): {quoted(slug)}",
            )
            slug = None
    elif not is_slug(stem):
        problem("slug", f"the file name {quoted(stem)} is not a slug; rename the file or set slug")
        slug = None

    link: str | None = None
    if "link" in front:
        link = _text(front, "link", problem, required=True)
        if link is not None and not is_http_url(link):
            problem("link", f"not an absolute http(s) URL: {quoted(link)}")
            link = None
    elif slug is not None:
        link = urljoin(site.link.rstrip("/") + "/", slug)

    image = _image(front.get("image"), link or site.link, problem) if "image" in front else None

    language = _text(front, "language", problem) or ""
    if language and not LANGUAGE_RE.match(language):
        problem("language", f"not a language tag such as 'en' or 'ar': {quoted(language)}")
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
            problem(key, f"not an ISO 8601 date and time: {quoted(front[key])}")
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
            problem(_name(f"image.{key}"), "unknown key")
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
            problem("image.url", f"not an http(s) URL: {quoted(value['url'])}")
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
            problem(f"image.{key}", f"must be a positive integer, not {_shown(size)}")
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

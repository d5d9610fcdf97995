"""The served pages in a real browser: headless Chromium against the app on a loopback port.

Skipped only when there is no `chromium` binary and the environment does not set CI; under CI a
missing browser is a failure (`.ci/run` installs it), so CI cannot skip these silently.

What Chromium does with the feeds (checked with Chromium 156):

- It applies `<?xml-stylesheet type="text/xsl"?>` to documents served with an XML type
  (`application/xml`, `text/xml`), showing a "this site uses XSLT ... being removed" banner.
- It shows documents served as `application/rss+xml` / `application/atom+xml` as plain text
  and never fetches their stylesheet. So a browser navigation (Accept naming text/html above
  the feed types) gets the same bytes as `application/xml`; readers get the feed types.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import feedparser
import httpx
import lxml.html
import pytest
from werkzeug.serving import make_server

from feeds.types import Format
from feeds.web import create_app, state
from tests.sites import Site

CHROMIUM = shutil.which("chromium")
PI = b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>'
FEEDS = ("everything", "ours", "humanitarian")

if CHROMIUM is None and "CI" not in os.environ:
    pytest.skip("chromium is not installed (CI installs it)", allow_module_level=True)

# One database engine is enough here: the browser sees the same bytes either way.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Server:
    url: str
    paths: list[str] = field(default_factory=list)  # every request, in order


def _recording(app: Any, paths: list[str]) -> Callable[..., Iterable[bytes]]:
    """The app, recording every request path."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        paths.append(environ["PATH_INFO"])
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wsgi


@pytest.fixture
def server(site: Site) -> Iterator[Server]:
    """`feeds update`, then the app served for real on a free loopback port."""
    assert site.feeds("update") == 0
    app = create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db})
    store = state(app).store
    for name in FEEDS:  # the renderer links the stylesheet from every XML document
        for fmt in (Format.RSS, Format.ATOM):
            document = store.get_document(name, fmt)
            assert document is not None and PI in document.body
    paths: list[str] = []
    httpd = make_server("127.0.0.1", 0, _recording(app, paths), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", paths)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        store.close()


def chromium(*args: str, timeout: float = 60) -> str:
    """Run headless Chromium once; its stdout. The whole process group dies on timeout."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed, and CI is set: .ci/run should have installed it")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            *args,
        ]
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        ) as proc:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        return out.decode()


def dump_dom(url: str) -> lxml.html.HtmlElement:
    dom = chromium("--dump-dom", url)
    assert dom.strip(), "Chromium printed no DOM"
    return lxml.html.fromstring(dom)


def test_index_in_a_browser_lists_every_feed_with_working_links(server: Server) -> None:
    page = dump_dom(server.url + "/")
    alternates = page.xpath("//head/link[@rel='alternate']")
    assert {(link.get("type"), link.get("href")) for link in alternates} == {
        (Format(ext).content_type.split(";")[0], f"/feeds/{name}.{ext}")
        for name in FEEDS
        for ext in ("rss", "atom", "json")
    }
    hrefs = []
    for name in FEEDS:
        (item,) = page.xpath(f"//li[@id='feed-{name}']")
        links = item.xpath(".//a/@href")
        assert links == [f"/feeds/{name}.{ext}" for ext in ("rss", "atom", "json")]
        hrefs += links
    assert "/sources" in page.xpath("//a/@href")
    # every link to this service works, and answers with what it announces
    for href in [*hrefs, "/sources"]:
        response = httpx.get(server.url + href, timeout=10)
        assert response.status_code == 200, href
        if href.startswith("/feeds/"):
            if href.endswith(".json"):
                assert response.json()["items"]
            else:
                assert feedparser.parse(response.content).bozo == 0


@pytest.mark.parametrize("ext", ["rss", "atom"])
def test_a_feed_opened_in_chromium_reads_as_a_page_through_the_stylesheet(
    server: Server, ext: str
) -> None:
    """A browser navigation gets the same bytes as application/xml (Chromium shows the feed
    types as plain text), so Chromium applies feed.xsl; feed readers still get the feed type."""
    response = httpx.get(f"{server.url}/feeds/everything.{ext}", timeout=10)
    entries = feedparser.parse(response.content).entries
    server.paths.clear()
    page = dump_dom(f"{server.url}/feeds/everything.{ext}")
    assert "/static/feed.xsl" in server.paths
    assert page.xpath("//h1")[0].text_content() == "Everything"
    about = page.xpath("//section[@class='about']")[0].text_content()
    assert "This is a web feed" in about
    assert f"https://feeds.outlet.example/feeds/everything.{ext}" in about
    articles = page.xpath("//main/article")
    assert [a.xpath(".//h2/a")[0].text_content() for a in articles] == [e.title for e in entries]
    assert [a.xpath(".//h2/a/@href")[0] for a in articles] == [e.link for e in entries]
    if ext == "rss":
        convoy = next(a for a in articles if "Aid convoy" in a.text_content())
        caption = convoy.xpath(".//figcaption")[0].text_content()
        assert "Trucks wait at the crossing." in caption
        assert "Wire Photo/Omar Khalil" in caption

"""The served pages in a real browser: headless Chromium against the app on a loopback port.

Skipped only when there is no `chromium` binary and the environment does not set CI; under CI a
missing browser is a failure (`.ci/run` installs it), so CI cannot skip these silently.

What Chromium does (checked with Chromium 156): it applies `<?xml-stylesheet type="text/xsl"?>`
to documents served with an XML type, logs "XSLTProcessor and XSLT Processing Instructions have
been deprecated" to the console and shows a red `<xslt-warning-banner>`. Our feeds carry no
stylesheet: a browser opening a feed (Accept naming text/html above XML) gets the feed's HTML
view, rendered when the feed was published. These tests open the pages as a person does, in
English and in Arabic, take screenshots, and read what the browser made of them: the
direction and language of the document, its text, and any XSLT at work.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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
FEEDS = ("everything", "ours", "humanitarian")
PROBE = "/__probe__"  # a page of the test server only (see _recording)

if CHROMIUM is None and "CI" not in os.environ:
    pytest.skip("chromium is not installed (CI installs it)", allow_module_level=True)

# One database engine is enough here: the browser sees the same bytes either way.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Server:
    url: str
    paths: list[str] = field(default_factory=list)  # every request, in order


# The probe opens a page in a frame, as a navigation (the browser's own Accept header), and
# writes what the browser made of it into its own DOM, which --dump-dom then prints.
PROBE_PAGE = """<!doctype html><html><body><pre id="result"></pre>
<iframe id="frame" width="800" height="600"></iframe>
<script>
var frame = document.getElementById("frame");
frame.onload = function () {
  var doc = frame.contentDocument;
  var pis = Array.prototype.filter.call(doc.childNodes, function (n) { return n.nodeType === 7; });
  document.getElementById("result").textContent = JSON.stringify({
    dir: doc.dir,
    lang: doc.documentElement.lang,
    direction: frame.contentWindow.getComputedStyle(doc.body).direction,
    contentType: doc.contentType,
    title: doc.title,
    text: doc.body.innerText,
    processingInstructions: pis.map(function (n) { return n.target; }),
    xsltBanner: doc.getElementsByTagName("xslt-warning-banner").length,
  });
};
frame.src = decodeURIComponent(location.search.slice(1));
</script></body></html>"""


def _recording(app: Any, paths: list[str]) -> Callable[..., Iterable[bytes]]:
    """The app, recording every request path, and the probe page."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        paths.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == PROBE:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [PROBE_PAGE.encode()]
        result: Iterable[bytes] = app(environ, start_response)
        return result

    return wsgi


@contextmanager
def serving(site: Site, language: str = "en") -> Iterator[Server]:
    """The site in ``language``: `feeds update`, then the app served for real on a free
    loopback port."""
    path = site.config / "site.toml"
    text = path.read_text(encoding="utf-8").replace('language = "en"', f'language = "{language}"')
    path.write_text(text, encoding="utf-8")
    assert site.feeds("update") == 0
    app = create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db})
    store = state(app).store
    for name in FEEDS:  # no document names a stylesheet
        for fmt in Format:
            document = store.get_document(name, fmt)
            assert document is not None and b"xml-stylesheet" not in document.body
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


@pytest.fixture
def server(site: Site) -> Iterator[Server]:
    with serving(site) as running:
        yield running


def chromium(*args: str, timeout: float = 60) -> tuple[str, str]:
    """Run headless Chromium once; its stdout and its log (stderr, with the pages' console
    messages). The whole process group dies on timeout."""
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
            "--enable-logging=stderr",
            "--v=0",
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
        return out.decode(), err.decode(errors="replace")


def dump_dom(url: str) -> lxml.html.HtmlElement:
    dom, _ = chromium("--dump-dom", url)
    assert dom.strip(), "Chromium printed no DOM"
    return lxml.html.fromstring(dom)


def console(log: str) -> list[str]:
    """The console messages in Chromium's log."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def probe(server: Server, path: str) -> tuple[dict[str, Any], list[str]]:
    """What Chromium made of ``path`` opened as a page: its document's direction, language,
    text, processing instructions and XSLT banner, and the console messages."""
    url = f"{server.url}{PROBE}?{server.url}{path}"
    dom, log = chromium("--virtual-time-budget=5000", "--dump-dom", url)
    (result,) = lxml.html.fromstring(dom).xpath("//pre[@id='result']")
    assert result.text, f"the probe saw no page at {path}: {log[-2000:]}"
    found: dict[str, Any] = json.loads(result.text)
    return found, console(log)


def screenshot(server: Server, path: str, into: Path) -> Path:
    """A PNG of ``path`` as Chromium shows it."""
    _, log = chromium("--window-size=1200,1600", f"--screenshot={into}", server.url + path)
    assert into.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), log[-2000:]
    assert into.stat().st_size > 10_000  # a page, not a blank
    return into


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
        assert links == [f"/feeds/{name}", *(f"/feeds/{name}.{e}" for e in ("rss", "atom", "json"))]
        hrefs += links
    assert "/sources" in page.xpath("//a/@href")
    # every link to this service works, and answers with what it announces
    for href in [*hrefs, "/sources"]:
        response = httpx.get(server.url + href, timeout=10)
        assert response.status_code == 200, href
        if href.startswith("/feeds/") and "." in href:
            if href.endswith(".json"):
                assert response.json()["items"]
            else:
                assert feedparser.parse(response.content).bozo == 0


@pytest.mark.parametrize("ext", ["rss", "atom", "json"])
def test_a_feed_opened_in_chromium_is_its_html_view(server: Server, ext: str) -> None:
    """A browser navigation gets the feed's HTML view (no XSLT); readers still get the feed."""
    response = httpx.get(f"{server.url}/feeds/everything.{ext}", timeout=10)
    assert response.headers["Content-Type"] == Format(ext).content_type
    if ext == "json":
        entries = [(i["title"], i["url"]) for i in response.json()["items"]]
    else:
        entries = [(e.title, e.link) for e in feedparser.parse(response.content).entries]
    assert len(entries) >= 5
    server.paths.clear()
    page = dump_dom(f"{server.url}/feeds/everything.{ext}")
    assert not [p for p in server.paths if "xsl" in p.lower()]
    assert page.xpath("//h1")[0].text_content() == "Everything"
    addresses = page.xpath("//section[@id='subscribe']//input/@value")
    assert f"https://feeds.outlet.example/feeds/everything.{ext}" in addresses
    articles = page.xpath("//main/article")
    shown = [(a.xpath(".//h2/a")[0].text_content(), a.xpath(".//h2/a/@href")[0]) for a in articles]
    assert shown == entries
    convoy = next(a for a in articles if "Aid convoy" in a.text_content())
    caption = convoy.xpath(".//figcaption")[0].text_content()
    assert "Trucks wait at the crossing." in caption
    assert "Wire Photo/Omar Khalil" in caption


@pytest.mark.parametrize(
    ("language", "direction", "index_text", "view_text"),
    [
        ("en", "ltr", "Sources and their health", "Subscribe to this feed"),
        ("ar", "rtl", "المصادر وحالتها", "اشترك في هذه الخلاصة"),
    ],
)
def test_pages_in_chromium_follow_the_site_language(
    site: Site, tmp_path: Path, language: str, direction: str, index_text: str, view_text: str
) -> None:
    """``/`` and a feed opened as a person opens them, in English and in Arabic: direction,
    language and text as the browser lays them out, screenshots, and no XSLT at work."""
    with serving(site, language) as server:
        for path, text in [("/", index_text), ("/feeds/everything.rss", view_text)]:
            found, messages = probe(server, path)
            assert found["dir"] == direction, path
            assert found["direction"] == direction, path  # as laid out
            assert found["lang"] == language, path
            assert found["contentType"] == "text/html", path
            assert text in found["text"], path
            assert found["processingInstructions"] == [], path
            assert found["xsltBanner"] == 0, path
            assert not [m for m in messages if "xslt" in m.lower()], messages
            name = "index" if path == "/" else "feed"
            shot = screenshot(server, path, tmp_path / f"{name}-{language}.png")
            assert shot.exists()
        assert not [p for p in server.paths if "xsl" in p.lower()]

"""A complete test site: config files pointing at loopback upstreams, articles, a database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from feeds.cli import main
from tests.upstream import Upstream

FIXTURES = Path(__file__).parent / "fixtures"


def serve_fixture_feeds(upstream: Upstream) -> None:
    upstream.set(
        "/wire.xml",
        (FIXTURES / "upstream" / "wire.xml").read_bytes(),
        headers={"Content-Type": "application/rss+xml"},
        etag='"wire-v1"',
    )
    upstream.set(
        "/un.atom",
        (FIXTURES / "upstream" / "un.atom").read_bytes(),
        headers={"Content-Type": "application/atom+xml"},
        last_modified="Thu, 19 Nov 2026 12:00:00 GMT",
    )


@dataclass
class Site:
    config: Path
    db: str
    upstream: Upstream

    def feeds(self, *args: str) -> int:
        return main(["--config", str(self.config), "--database", self.db, *args])


def write_site(
    root: Path,
    upstream: Upstream,
    extra_sources: str = "",
    *,
    sources: str | None = None,
    feeds: str | None = None,
    site_extra: str = "",
    deadline: float = 5,
) -> Path:
    """A config directory under `root`: the fixture articles and feeds.toml, and sources on
    the loopback `upstream` (or the given `sources` / `feeds` TOML instead)."""
    config = root / "config"
    shutil.copytree(FIXTURES / "site", config)
    (config / "site.toml").write_text(
        f"""
{site_extra}
title = "The Outlet"
link = "https://outlet.example/"
base_url = "https://feeds.outlet.example"
description = "News from the region"
language = "en"
articles = "articles"

[fetch]
deadline = {deadline}
allow_private_addresses = true
host_spacing = 0.01
per_host = 4
""",
        encoding="utf-8",
    )
    (config / "sources.toml").write_text(
        f"""
[[source]]
id = "wire"
url = "{upstream.url("/wire.xml")}"
title = "Wire Service"
tags = ["wire"]
interval = "15m"

[[source]]
id = "un"
url = "{upstream.url("/un.atom")}"
title = "UN News"
tags = ["un", "humanitarian"]
interval = "30m"

[[source]]
id = "down"
url = "{upstream.url("/status/500")}"
title = "Broken upstream"
tags = ["humanitarian"]
interval = "1h"
{extra_sources}
""",
        encoding="utf-8",
    )
    if sources is not None:
        (config / "sources.toml").write_text(sources, encoding="utf-8")
    if feeds is not None:
        (config / "feeds.toml").write_text(feeds, encoding="utf-8")
    return config


def source_toml(source_id: str, url: str, **extra: object) -> str:
    """One [[source]] table."""
    lines = ["[[source]]", f'id = "{source_id}"', f'url = "{url}"', f'title = "{source_id}"']
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"')
    return "\n".join(lines) + "\n\n"


ALL_SOURCES_FEED = '[[feed]]\nname = "all"\ntitle = "All"\nsources = ["*"]\nlimit = 100\n'

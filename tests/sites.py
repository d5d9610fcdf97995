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


def write_site(root: Path, upstream: Upstream, extra_sources: str = "") -> Path:
    config = root / "config"
    shutil.copytree(FIXTURES / "site", config)
    (config / "site.toml").write_text(
        """
title = "The Outlet"
link = "https://outlet.example/"
base_url = "https://feeds.outlet.example"
description = "News from the region"
language = "en"
articles = "articles"

[fetch]
deadline = 5
allow_private_addresses = true
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
    return config

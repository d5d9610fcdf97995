"""Partners for tests: feeds one of which is for partners, keys made with `feeds partners
new-key` as an editor makes them, access.toml written, and the headers that present a key."""

from __future__ import annotations

import base64
from collections.abc import Iterable

import pytest

from tests.sites import Site

# Two public feeds (one published as summaries) and one for partners only.
PARTNER_FEEDS_TOML = """
[[feed]]
name = "everything"
title = "Everything"
local = true
sources = ["*"]
limit = 50

[[feed]]
name = "ours"
title = "Our articles"
local = true
limit = 20
content = "summary"

[[feed]]
name = "private-wire"
title = "Wire, for partners"
sources = ["wire"]
access = "partners"
"""


def new_key(site: Site, partner: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`feeds partners new-key`: the key it prints once, and the key_sha256 line."""
    capsys.readouterr()
    assert site.feeds("partners", "new-key", partner) == 0
    out = capsys.readouterr().out.splitlines()
    return out[1], next(line for line in out if line.startswith("key_sha256 = "))


def partner_table(
    partner: str, line: str, feeds: str, content: str = "full", enabled: bool = True
) -> str:
    """One [[partner]] table; ``line`` is the key_sha256 line new-key printed."""
    return (
        f'[[partner]]\nid = "{partner}"\nname = "Partner {partner}"\nfeeds = {feeds}\n'
        f'content = "{content}"\n{line}\nenabled = {"true" if enabled else "false"}\n\n'
    )


def add_partners(
    site: Site,
    capsys: pytest.CaptureFixture[str],
    feeds_toml: str,
    partners: Iterable[tuple[str, str, str, bool]],
) -> dict[str, str]:
    """Write feeds.toml and an access.toml of ``partners`` (id, feeds as TOML, content,
    enabled), each with a new key, and publish. Returns each partner's key."""
    (site.config / "feeds.toml").write_text(feeds_toml, encoding="utf-8")
    found: dict[str, str] = {}
    tables = ""
    for partner, feeds, content, enabled in partners:
        key, line = new_key(site, partner, capsys)
        found[partner] = key
        tables += partner_table(partner, line, feeds, content, enabled)
    (site.config / "access.toml").write_text(tables, encoding="utf-8")
    assert site.feeds("update") == 0
    return found


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(user: str, key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}

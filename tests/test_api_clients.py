"""API clients as editors set them up: `feeds clients new-key`, `[[client]]` checked like the
rest of the config, and keys that never reach a log (the Procfile's web process, for real)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
import pytest

from feeds.config import load_config
from feeds.errors import ConfigError
from tests.api import ARTICLE, client_table, new_client_key
from tests.partners import new_key, partner_table
from tests.procfile import procfile_web
from tests.sites import Site


def test_new_key_prints_a_key_once_and_the_line_for_access_toml(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert site.feeds("clients", "new-key", "cms") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    key = lines[1]
    assert len(key) >= 43 and out.count(key) == 1
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert f"Add this table to {site.config / 'access.toml'}:" in out
    assert "[[client]]" in lines and 'id = "cms"' in lines
    assert f'key_sha256 = "{digest}"' in lines
    # pasted as printed, the table is a valid client holding the articles scope
    table = out[out.index("[[client]]") :]
    (site.config / "access.toml").write_text(table, encoding="utf-8")
    client = load_config(site.config).clients[0]
    assert (client.id, client.key_sha256, sorted(client.scopes)) == ("cms", digest, ["articles"])
    # a client access.toml knows: replace its hash
    again, line = new_client_key(site, "cms", capsys)
    assert again != key and line != f'key_sha256 = "{digest}"'
    assert site.feeds("clients", "new-key", "Not A Slug") != 0
    assert "not a client id" in capsys.readouterr().err


def test_clients_are_checked_like_the_rest_of_the_config(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    _, partner_line = new_key(site, "p", capsys)
    _, line = new_client_key(site, "cms", capsys)
    (site.config / "access.toml").write_text(
        partner_table("p", partner_line, '["*"]')
        + client_table("cms", line, '["articles", "everything"]')
        + client_table("cms", partner_line, '["overrides"]')
        + '[[client]]\nid = "bad"\nname = "Bad"\nkey_sha256 = "secret"\nscope = ["articles"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as e:
        load_config(site.config)
    problems = e.value.problems
    assert (
        "access.toml: client[cms].scopes: unknown scope 'everything' "
        "(known: 'articles', 'overrides')" in problems
    )
    assert "access.toml: client[cms].id: duplicate client id 'cms'" in problems
    assert "access.toml: client[cms].key_sha256: the same key as partner 'p': make a new one" in (
        problems
    )
    assert "access.toml: client[bad].scope: unknown key; did you mean 'scopes'?" in problems
    assert any(
        p.startswith("access.toml: client[bad].scopes: missing required key") for p in problems
    )
    assert any(
        p.startswith("access.toml: client[bad].key_sha256: must be the SHA-256") for p in problems
    )
    assert not any("secret" in p for p in problems)  # a key pasted by mistake is not echoed
    assert site.feeds("check") != 0
    assert "client[cms].scopes: unknown scope 'everything'" in capsys.readouterr().err


def test_procfile_web_takes_the_cms_and_logs_no_key(
    site: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The Procfile's web: line, run for real: the API answers through gunicorn, a client
    disabled in access.toml is refused within seconds without a restart, and no key reaches
    the access log."""
    key, line = new_client_key(site, "cms", capsys)
    access = site.config / "access.toml"
    access.write_text(client_table("cms", line, '["articles"]'), encoding="utf-8")
    assert site.feeds("update") == 0
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log, procfile_web(site, log) as server:
        url = f"{server}/api/articles/cranes"
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.put(url, json=ARTICLE, headers=auth, timeout=5).status_code == 201
        assert httpx.get(url, headers=auth, timeout=5).json()["title"] == ARTICLE["title"]
        assert httpx.get(f"{url}?key={key}", timeout=5).status_code == 401
        access.write_text(client_table("cms", line, '["articles"]', enabled=False), "utf-8")
        changed = time.monotonic()
        while True:  # every worker re-reads the file within a few seconds
            codes = {httpx.get(url, headers=auth, timeout=5).status_code for _ in range(8)}
            if codes == {401}:
                break
            assert time.monotonic() - changed < 15, codes
            time.sleep(0.5)
    logged = log_path.read_text(encoding="utf-8")
    assert "/api/articles/cranes" in logged
    assert key not in logged

"""API clients for tests: keys made with `feeds clients new-key` as an editor makes them,
access.toml written, and the served app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feeds.web import create_app, state
from tests.partners import new_key, partner_table
from tests.sites import Site


def new_client_key(site: Site, client: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`feeds clients new-key`: the key it prints once, and the key_sha256 line."""
    capsys.readouterr()
    assert site.feeds("clients", "new-key", client) == 0
    out = capsys.readouterr().out.splitlines()
    return out[1], next(line for line in out if line.startswith("key_sha256 = "))


def client_table(client: str, line: str, scopes: str, enabled: bool = True) -> str:
    return (
        f'[[client]]\nid = "{client}"\nname = "Client {client}"\nscopes = {scopes}\n'
        f"{line}\nenabled = {'true' if enabled else 'false'}\n\n"
    )


@dataclass
class Api:
    """The served app with four clients (``cms``: every scope; ``writer``: articles only;
    ``desk``: overrides only; ``off``: disabled) and a partner (``partner``)."""

    site: Site
    app: Flask
    http: FlaskClient
    keys: dict[str, str]

    def call(
        self, method: str, path: str, who: str | None = "cms", body: Any = None, **kw: Any
    ) -> TestResponse:
        headers = dict(kw.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(who, who)}"
        if body is not None:
            kw["json"] = body
        return self.http.open(path, method=method, headers=headers, **kw)

    def put(self, slug: str, body: Any, who: str = "cms") -> TestResponse:
        return self.call("PUT", f"/api/articles/{slug}", who, body)

    def errors(self, response: TestResponse) -> dict[str, str]:
        """{field: message} of a refusal (checked to be the API's JSON shape)."""
        assert response.mimetype == "application/json", response.data
        data = response.get_json()
        assert set(data) == {"errors"} and data["errors"], data
        fields = [e["field"] for e in data["errors"]]
        assert len(fields) == len(set(fields)), "one message per field"
        return {e["field"]: e["message"] for e in data["errors"]}


def write_access(site: Site, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    tables = ""
    for client, scopes, enabled in (
        ("cms", '["articles", "overrides"]', True),
        ("writer", '["articles"]', True),
        ("desk", '["overrides"]', True),
        ("off", '["articles", "overrides"]', False),
    ):
        keys[client], line = new_client_key(site, client, capsys)
        tables += client_table(client, line, scopes, enabled)
    keys["partner"], line = new_key(site, "partner", capsys)
    tables += partner_table("partner", line, '["*"]')
    (site.config / "access.toml").write_text(tables, encoding="utf-8")
    return keys


@pytest.fixture(name="api")
def api_fixture(site: Site, capsys: pytest.CaptureFixture[str]) -> Iterator[Api]:
    keys = write_access(site, capsys)
    assert site.feeds("update") == 0
    app = create_app(
        {
            "FEEDS_CONFIG": str(site.config),
            "DATABASE_URL": site.db,
            "TESTING": True,
        }
    )
    with app.test_client() as http:
        yield Api(site, app, http, keys)
    state(app).store.close()
    capsys.readouterr()


ARTICLE = {
    "title": "Port of Beirut: the new cranes",
    "date": "2026-11-20T08:00:00+02:00",
    "author": ["Rania Abou-Zeid", "Karim Nassar"],
    "summary": "Three cranes arrived on Tuesday.",
    "tags": ["lebanon", "ports"],
    "image": {
        "url": "/media/cranes.jpg",
        "caption": "The cranes at dawn.",
        "credit": "Photo: Maya Haddad",
        "width": 1600,
        "height": 1067,
    },
    "body": "Three **new cranes** arrived. [The port](/port) says more will come.\n",
}

"""/api/openapi.json keeps honest: every route of the API is described and every description
routed, its examples are valid and accepted, and schemathesis finds no 500 and no response
that does not conform, with a valid key and without."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api import ARTICLE, Api, api_fixture  # noqa: F401  (the fixture)

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def described(api: Api) -> dict[str, Any]:
    response = api.http.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    spec: dict[str, Any] = response.get_json()
    assert spec["openapi"].startswith("3.1")
    return spec


def test_every_route_is_described_and_every_description_routed(api: Api) -> None:
    spec = described(api)
    routed = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in api.app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    documented = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    }
    assert routed == documented
    assert len(routed) == 7


def test_the_examples_are_valid_and_accepted(api: Api) -> None:
    spec = described(api)
    bodies = {
        (path, method): operation["requestBody"]["content"]["application/json"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }
    assert set(bodies) == {("/api/articles/{slug}", "put"), ("/api/overrides", "post")}
    for content in bodies.values():
        jsonschema_rs.validate(content["schema"], content["example"])
    example = bodies[("/api/articles/{slug}", "put")]["example"]
    created = api.put("silos", example)
    assert created.status_code == 201
    out = spec["paths"]["/api/articles/{slug}"]["put"]["responses"]["201"]
    jsonschema_rs.validate(out["content"]["application/json"]["schema"], created.get_json())
    command = bodies[("/api/overrides", "post")]["example"]
    assert api.call("POST", "/api/overrides", body=command).status_code == 201
    # and the test article of this suite is valid too
    jsonschema_rs.validate(bodies[("/api/articles/{slug}", "put")]["schema"], ARTICLE)


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.mark.parametrize("who", ["cms", None])
def test_schemathesis_finds_no_500_and_no_nonconforming_response(api: Api, who: str | None) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", api.app)
    headers = {"Authorization": f"Bearer {api.keys[who]}"} if who else {}
    assert api.put("cranes", ARTICLE).status_code == 201  # something to read and delete
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6  # all but the description itself
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()

"""The web process (here) stores what the CMS pushes; a clock in another process (`feeds
scheduler`) publishes it within seconds, on SQLite and PostgreSQL. (How fast: bench/api.py;
this test asserts the outcome, with the issue's bound of 10 seconds.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import feedparser

from tests.api import ARTICLE, Api, api_fixture  # noqa: F401  (the fixture)


def titles(api: Api, feed: str) -> list[str]:
    return [e.title for e in feedparser.parse(api.http.get(f"/feeds/{feed}.atom").data).entries]


def wait_for(check: object, seconds: float) -> float:
    """Seconds until ``check()`` holds (at most ``seconds``; then it is asserted)."""
    assert callable(check)
    start = time.monotonic()
    while not check() and time.monotonic() - start < seconds:
        time.sleep(0.1)
    assert check()
    return time.monotonic() - start


def test_a_clock_in_another_process_publishes_an_api_article_within_10_seconds(
    api: Api,
) -> None:
    clock = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feeds.cli",
            "--config",
            str(api.site.config),
            "--database",
            api.site.db,
            "scheduler",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, FEEDS_ALLOW_PRIVATE_ADDRESSES="1"),
    )
    try:
        time.sleep(3)  # the clock starts and publishes what is stored
        assert api.put("cranes", ARTICLE).status_code == 201
        wait_for(lambda: ARTICLE["title"] in titles(api, "ours"), 10)
        assert ARTICLE["title"] in titles(api, "everything")
        changed = {**ARTICLE, "title": "Cranes, corrected"}
        assert api.put("cranes", changed).status_code == 200
        wait_for(lambda: "Cranes, corrected" in titles(api, "ours"), 10)
        assert api.call("DELETE", "/api/articles/cranes").status_code == 204
        wait_for(lambda: "Cranes, corrected" not in titles(api, "ours"), 10)
        assert clock.poll() is None  # still running
    finally:
        clock.send_signal(signal.SIGTERM)
        output = clock.communicate(timeout=30)[0].decode()
    assert "API articles changed" in output

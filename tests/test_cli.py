"""The `feeds` command as an editor meets it, run as a separate process against a copy of the
shipped config/ (its sources moved to a loopback upstream): global options before or after the
subcommand, --version, `sources` columns, plurals, the set-up traps (a busy port, a mistyped
database, base_url not the address served), the help of every subcommand, and the one log
line a config reload gives in each process."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

from feeds import webserver as server_settings
from feeds.cli import build_parser
from feeds.reload import ConfigWatcher
from feeds.web import create_app, state
from tests.sites import serve_fixture_feeds
from tests.upstream import Upstream

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(sys.executable).parent / "feeds"
SHIPPED_SOURCES = 9
SHIPPED_FEEDS = 4
NO_DATABASE = (
    "database: no database at {path} (run `feeds update` or `feeds run` first, "
    "or check --database / DATABASE_URL)\n"
)
CLEARED_ENV = (
    "FEEDS_CONFIG",
    "DATABASE_URL",
    "PORT",
    "FEEDS_BASE_URL",
    "FEEDS_TRUSTED_PROXIES",
    "COLUMNS",
)


@dataclass
class Desk:
    """A copy of the shipped config/ and content/ under ``root``, its sources on a loopback
    upstream; ``feeds(...)`` runs the installed command there (cwd ``root``)."""

    root: Path
    config: Path
    db_path: Path
    env: dict[str, str]

    @property
    def db(self) -> str:
        return f"sqlite:///{self.db_path}"

    def feeds(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FEEDS), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> Server:
        """A long-running command (`serve`, `run`), its output going to files."""
        out = (self.root / "stdout.txt").open("w")
        err = (self.root / "stderr.txt").open("w")
        process = subprocess.Popen(
            [str(FEEDS), *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdout=out,
            stderr=err,
        )
        out.close()
        err.close()
        return Server(process, self.root / "stdout.txt", self.root / "stderr.txt")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def wait_for(self, what: str, output: str = "stderr", seconds: float = 60) -> str:
        """Wait until ``what`` is in the output; return that output."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            text = self.stdout() if output == "stdout" else self.stderr()
            if what in text:
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{what!r} not in {output}:\n{self.stdout()}\n{self.stderr()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def write_sources(config: Path, upstream: Upstream) -> None:
    """Point every shipped source at the loopback upstream (tests never touch the internet)."""
    path = config / "sources.toml"
    text = path.read_text(encoding="utf-8")
    moved = re.sub(
        r'^url = ".*"$', f'url = "{upstream.url("/wire.xml")}"', text, flags=re.MULTILINE
    )
    assert moved.count(upstream.url("/wire.xml")) == SHIPPED_SOURCES
    path.write_text(moved, encoding="utf-8")


@pytest.fixture
def desk(tmp_path: Path, upstream: Upstream) -> Desk:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    serve_fixture_feeds(upstream)
    write_sources(tmp_path / "config", upstream)
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env["FEEDS_ALLOW_PRIVATE_ADDRESSES"] = "1"  # the loopback upstream
    return Desk(tmp_path, tmp_path / "config", tmp_path / "db" / "feeds.db", env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


# --------------------------------------------------------------------------- options, output


def test_global_options_before_or_after_the_subcommand(desk: Desk) -> None:
    updated = desk.feeds("update", "--config", str(desk.config), "--database", desk.db)
    assert updated.returncode == 0, updated.stderr
    after = desk.feeds("sources", "--config", str(desk.config), "--database", desk.db)
    before = desk.feeds("--config", str(desk.config), "--database", desk.db, "sources")
    # given on both sides, the one after the subcommand wins
    both = desk.feeds("--config", "nowhere", "sources", "--config", str(desk.config), "-v")
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert after.stdout.startswith("ID ")
    assert both.returncode == 3  # the config was found; the default database is not there
    assert both.stderr == NO_DATABASE.format(path=desk.root / "instance" / "feeds.db")


def test_version() -> None:
    done = subprocess.run([str(FEEDS), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout == f"feeds {version('feeds')}\n"


def test_sources_prints_a_header_and_aligned_columns(desk: Desk) -> None:
    assert desk.feeds("update", "--config", str(desk.config), "--database", desk.db).returncode == 0
    done = desk.feeds("sources", "--config", str(desk.config), "--database", desk.db)
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    names = ["ID", "STATE", "HTTP", "LAST OK", "NEXT", "DETAIL"]
    starts = [header.index(name) for name in names]
    assert starts == sorted(starts) and starts[0] == 0
    ids = re.findall(r'^id = "(.*)"$', (desk.config / "sources.toml").read_text(), re.MULTILINE)
    assert len({len(i) for i in ids}) > 1  # ids of different lengths, yet the columns line up
    assert len(rows) == len(ids) == SHIPPED_SOURCES
    for row, source_id in zip(rows, ids, strict=True):
        cells = [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        assert cells[:4] == [source_id, "ok", "200", cells[3]], row
        for start in starts[1:5]:
            assert row[start - 2 : start] == "  " and row[start] != " ", (row, start)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", cells[3]), row
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", cells[4]), row


FEEDS_TOML = [
    '[[feed]]\nname = "ours"\ntitle = "Ours"\nlocal = true\n',
    '[[feed]]\nname = "wires"\ntitle = "Wires"\nsources = ["*"]\n',
]


@pytest.mark.parametrize("count", [1, 2])
def test_plurals(desk: Desk, count: int) -> None:
    """1 source, 1 feed, 1 bad article file; 2 sources, 2 feeds, 2 bad article files."""
    sources = desk.config / "sources.toml"
    head, *tables = sources.read_text(encoding="utf-8").split("[[source]]")
    sources.write_text("[[source]]".join([head, *tables[:count]]), encoding="utf-8")
    (desk.config / "feeds.toml").write_text("\n".join(FEEDS_TOML[:count]), encoding="utf-8")
    (desk.config / "access.toml").unlink()  # its partners read the shipped feeds
    for n in range(count):
        bad = desk.root / "content" / "articles" / f"zz-broken-{n}.md"
        bad.write_text("no front matter\n", encoding="utf-8")
    s = "" if count == 1 else "s"
    checked = desk.feeds("check", "--config", str(desk.config))
    assert checked.returncode == 1
    assert checked.stdout == (
        f"{desk.config}: {count} source{s}, {count} feed{s}, 6 articles, "
        f"{count} bad article file{s}\n"
    )
    updated = desk.feeds("update", "--config", str(desk.config), "--database", desk.db)
    assert updated.returncode == 0, updated.stderr
    assert f"articles: 6 (6 added, 0 updated, 0 removed, {count} bad file{s} skipped)" in (
        updated.stdout
    )
    assert updated.stdout.endswith(
        f"sources: {count} fetched, 0 failed; feeds: {count}, {3 * count} documents changed\n"
    )
    refreshed = desk.feeds(
        "refresh", "anadolu-middle-east", "--config", str(desk.config), "--database", desk.db
    )
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.stdout.endswith("\n0 documents changed\n")  # 304: nothing new


# --------------------------------------------------------------------------- set-up traps


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_busy_port_fails_before_any_work(desk: Desk, upstream: Upstream, command: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = desk.feeds(
            command, "--port", str(port), "--config", str(desk.config), "--database", desk.db
        )
        took = time.monotonic() - started
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: address in use")
    assert done.stderr.count("\n") == 1  # one line, no traceback
    assert done.stdout == ""
    assert not desk.db_path.parent.exists()  # no database made, nothing synced or published
    assert upstream.requests == []  # nothing fetched
    assert took < 20


@pytest.mark.parametrize(
    "args", [["sources"], ["stats"], ["check", "--platform", "msn"]], ids=lambda a: a[0]
)
def test_read_only_commands_refuse_a_missing_database(desk: Desk, args: list[str]) -> None:
    typo = desk.root / "dbb" / "feeds.db"
    done = desk.feeds(*args, "--config", str(desk.config), "--database", f"sqlite:///{typo}")
    assert done.returncode == 3
    assert done.stderr.endswith(NO_DATABASE.format(path=typo))
    assert not typo.parent.exists()


def test_a_relative_database_path_is_named_in_full(desk: Desk) -> None:
    done = desk.feeds(
        "stats", "--config", str(desk.config), env={"DATABASE_URL": "sqlite:///data/feeds.db"}
    )
    assert done.returncode == 3
    assert done.stderr == NO_DATABASE.format(path=desk.root / "data" / "feeds.db")
    assert not (desk.root / "data").exists()


def test_an_unreachable_postgresql_is_named_without_its_password(desk: Desk) -> None:
    url = "postgresql://feeds:s3cret-pw@127.0.0.1:5432/feeds_no_such_database"
    done = desk.feeds("sources", "--config", str(desk.config), "--database", url)
    assert done.returncode == 3
    assert done.stderr.startswith(
        "database: cannot open database "
        "postgresql://feeds:***@127.0.0.1:5432/feeds_no_such_database: "
    )
    assert done.stderr.count("\n") == 1
    assert "s3cret-pw" not in done.stdout + done.stderr


def test_not_a_database_url(desk: Desk) -> None:
    done = desk.feeds("update", "--config", str(desk.config), "--database", "feeds.db")
    assert done.returncode == 3
    assert done.stderr == (
        "database: not a database URL: 'feeds.db' (sqlite:///PATH or postgresql://…)\n"
    )


def test_base_url_not_the_address_served_is_a_warning_once(desk: Desk) -> None:
    port = free_port()
    server = desk.start(
        "serve", "--port", str(port), "--config", str(desk.config), "--database", desk.db
    )
    try:
        server.wait_for(f"serving on http://127.0.0.1:{port}/", "stdout")
        for path in ("/healthz", "/", "/sources", "/"):
            assert get(f"http://127.0.0.1:{port}{path}") == 200
        assert get(f"http://127.0.0.1:{port}/", {"Host": "feeds.example"}) == 200
        server.wait_for('"GET / HTTP/1.1" 200', "stdout")  # gunicorn's access log
    finally:
        server.stop()
    log = server.stderr()
    site = desk.config / "site.toml"
    at_start = (
        f"base_url is http://127.0.0.1:8000 but this server listens on "
        f"http://127.0.0.1:{port}: the self links in the feeds and pages point at "
        f"http://127.0.0.1:8000. If that is wrong, set base_url in {site} to "
        f"http://127.0.0.1:{port}, or serve with --port 8000. This is only a warning: ignore "
        f"it if a proxy serves http://127.0.0.1:8000 from this address."
    )
    assert log.count(at_start) == 1
    # once per web process (gunicorn's workers), not per request
    assert 1 <= log.count("a request came to") <= server_settings.workers
    assert f"a request came to http://127.0.0.1:{port} but base_url is http://127.0.0.1:8000" in log
    assert "a proxy may legitimately serve http://127.0.0.1:8000 from another address" in log


def test_no_warning_when_base_url_is_the_address_served(desk: Desk) -> None:
    port = free_port()
    server = desk.start(
        "serve",
        "--port",
        str(port),
        "--config",
        str(desk.config),
        "--database",
        desk.db,
        env={"FEEDS_BASE_URL": f"http://localhost:{port}"},
    )
    try:
        server.wait_for(f"serving on http://127.0.0.1:{port}/", "stdout")
        assert get(f"http://127.0.0.1:{port}/") == 200
        server.wait_for('"GET / HTTP/1.1" 200', "stdout")  # gunicorn's access log
    finally:
        server.stop()
    assert "base_url" not in server.stderr()


@pytest.fixture
def web_log(desk: Desk, caplog: pytest.LogCaptureFixture) -> Iterator[Desk]:
    caplog.set_level(logging.WARNING, logger="feeds.web.origin")
    yield desk


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "feeds.web.origin"]


def test_a_trusted_proxy_says_where_the_request_went(
    web_log: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {"FEEDS_CONFIG": str(web_log.config), "DATABASE_URL": web_log.db}
    app = create_app({**settings, "TRUSTED_PROXIES": 1})
    client = app.test_client()
    proxied = {"Host": "10.0.0.5:8000", "X-Forwarded-Host": "127.0.0.1:8000"}
    assert client.get("/", headers={**proxied, "X-Forwarded-Proto": "http"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200
    assert warnings_of(caplog) == []  # the proxy forwarded base_url's address; probes ignored
    for _ in range(3):
        client.get("/", headers={**proxied, "X-Forwarded-Proto": "https"})
    (warning,) = warnings_of(caplog)
    assert warning.startswith(
        "a request came to https://127.0.0.1:8000 but base_url is http://127.0.0.1:8000"
    )
    assert "(proxies: 1 trusted (FEEDS_TRUSTED_PROXIES))" in warning

    caplog.clear()
    untrusting = create_app({**settings, "TRUSTED_PROXIES": 0}).test_client()
    untrusting.get("/", headers={**proxied, "X-Forwarded-Proto": "http"})
    (warning,) = warnings_of(caplog)  # X-Forwarded-* are anyone's to send: not believed
    assert warning.startswith("a request came to http://10.0.0.5:8000 but base_url is")
    assert "set FEEDS_TRUSTED_PROXIES to believe their X-Forwarded-Host" in warning


# --------------------------------------------------------------------------- config reloads


def reload_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "feeds.reload"]


def test_a_reload_says_which_process_applied_it(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feeds.reload")
    clock = ConfigWatcher(desk.config, process="the clock")
    web = state(create_app({"FEEDS_CONFIG": str(desk.config), "DATABASE_URL": desk.db})).watcher
    sources = desk.config / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace('title = "', 'title = "Edited: ', 1), encoding="utf-8")
    for _ in range(3):
        clock.poll()
        web.poll()
    pid = os.getpid()
    counts = f"{SHIPPED_SOURCES} sources, {SHIPPED_FEEDS} feeds"
    assert reload_lines(caplog) == [
        f"config reloaded by the clock (pid {pid}): {counts}",
        f"config reloaded by the web process (pid {pid}): {counts}",
    ]

    caplog.clear()
    sources.write_text(text.replace('interval = "', 'intreval = "', 1), encoding="utf-8")
    for _ in range(3):
        assert clock.poll() is None
    problem = (
        "sources.toml: source[anadolu-middle-east].intreval: unknown key; did you mean 'interval'?"
    )
    assert reload_lines(caplog) == [
        f"config not reloaded by the clock (pid {pid}): {problem}",
        f"the clock (pid {pid}) keeps the last good config: {counts} (fix the problem and "
        "save again)",
    ]
    assert clock.current.sources[0].title.startswith("Edited: ")


def test_feeds_run_logs_a_reload_once_per_process(desk: Desk) -> None:
    """`feeds run` is the clock and, beside it, the Procfile's web server (gunicorn, not a
    development server): both apply a new config, each process logging it once; an invalid
    one is logged once per process too, and the last good config keeps serving."""
    port = free_port()
    server = desk.start(
        "run", "--port", str(port), "--config", str(desk.config), "--database", desk.db
    )
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_for(f"serving on {base}/", "stdout")
        server.wait_for("Booting worker", "stderr")
        poke_for(base, seconds=2)  # the web server's workers are up, with the config as it was
        pid = server.process.pid
        feeds_toml = desk.config / "feeds.toml"
        feeds_toml.write_text(
            feeds_toml.read_text(encoding="utf-8").replace('title = "', 'title = "Edited: ', 1),
            encoding="utf-8",
        )
        counts = f"{SHIPPED_SOURCES} sources, {SHIPPED_FEEDS} feeds"
        reloaded = f"config reloaded by the clock (pid {pid}): {counts}"
        poke_until(server, base, reloaded)
        poke_until(server, base, "config reloaded by the web process (pid ")
        poke_for(base, seconds=6)  # more than one tick of the clock and of the web process
        with urllib.request.urlopen(f"{base}/feeds/everything.rss", timeout=10) as response:
            assert b"<title>Edited: The Levant Ledger" in response.read()
        sources = desk.config / "sources.toml"
        text = sources.read_text(encoding="utf-8")
        sources.write_text(text.replace('interval = "', 'intreval = "', 1), encoding="utf-8")
        problem = (
            "sources.toml: source[anadolu-middle-east].intreval: unknown key; did you mean "
            "'interval'?"
        )
        poke_until(server, base, f"config not reloaded by the clock (pid {pid}): {problem}")
        poke_until(server, base, "config not reloaded by the web process (pid ")
        poke_for(base, seconds=6)
        assert get(f"{base}/feeds/everything.rss") == 200  # the last good config serves
    finally:
        server.stop()
    log = server.stderr()
    assert "Using worker: gevent" in log  # the Procfile's server and settings
    assert "development server" not in log
    assert log.count(reloaded) == 1
    assert log.count(f"config not reloaded by the clock (pid {pid}): {problem}") == 1
    for line in ("config reloaded by the web process", "config not reloaded by the web process"):
        pids = re.findall(re.escape(line) + r" \(pid (\d+)\)", log)
        assert 1 <= len(pids) <= server_settings.workers
        assert len(set(pids)) == len(pids) and str(pid) not in pids  # once per process
    assert "keeps the last good config" in log


def poke_until(server: Server, base: str, what: str, seconds: float = 30) -> None:
    """Request / (the web process re-reads the config on requests) until ``what`` is logged."""
    deadline = time.monotonic() + seconds
    while what not in server.stderr():
        assert time.monotonic() < deadline, f"{what!r} not logged:\n{server.stderr()}"
        assert get(f"{base}/") == 200
        time.sleep(0.5)


def poke_for(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert get(f"{base}/") == 200
        time.sleep(0.5)


# --------------------------------------------------------------------------- help texts


class Stop(Exception):
    """Raised from argparse's public hooks to hand back the parser that called them."""

    def __init__(self, parser: argparse.ArgumentParser, message: str = "") -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


def parser_of(path: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser of `feeds *path`: the one that prints its help for `feeds *path --help`."""

    def print_help(self: argparse.ArgumentParser, file: object = None) -> None:
        raise Stop(self)

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "print_help", print_help)
        with pytest.raises(Stop) as info:
            build_parser().parse_args([*path, "--help"])
    return info.value.parser


def subcommands(path: Sequence[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subcommands of `feeds *path`, as the error for an unknown one lists them (every
    one, with a help line or not)."""

    def error(self: argparse.ArgumentParser, message: str) -> None:
        raise Stop(self, message)

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "error", error)
        try:
            build_parser().parse_args([*path, "zz-no-such-command"])
        except Stop as e:
            message = e.message
        else:
            return []
    found = re.search(r"invalid choice: 'zz-no-such-command' \(choose from (.*)\)", message)
    if found is None:
        return []
    parent = parser_of(path, monkeypatch)
    names = [name.strip().strip("'") for name in found[1].split(",")]
    # a positional argument's choices are not commands: they have no parser of their own
    return [
        name
        for name in names
        if (sub := parser_of([*path, name], monkeypatch)) is not parent
        and sub.prog.split()[-1] == name
    ]


def every_command(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ...]]:
    todo: list[tuple[str, ...]] = [()]
    while todo:
        path = todo.pop(0)
        yield path
        todo += [(*path, name) for name in subcommands(path, monkeypatch)]


def help_entries(text: str) -> dict[str, str]:
    """Each argument of a help text (its invocation, e.g. ``--port PORT``) → its help."""
    entries: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if re.match(r"  \S", line):
            invocation, _, help_text = line[2:].partition("  ")
            current = invocation.strip()
            entries[current] = help_text.strip()
        elif current is not None and line.startswith("   "):
            entries[current] = (entries[current] + " " + line.strip()).strip()
        else:
            current = None
    return entries


TRIVIAL_DEFAULTS = frozenset({"None", "False", "[]", "()", ""})


def help_problems(parser: argparse.ArgumentParser, name: str) -> list[str]:
    """What is missing from one command's help: its description, an argument's help, or
    the default of an option that has a non-trivial one."""
    problems = [] if (parser.description or "").strip() else [f"{name}: no description"]
    plain = help_entries(parser.format_help())
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    with_defaults = help_entries(parser.format_help())
    for invocation, text in plain.items():
        if not text:
            problems.append(f"{name}: {invocation}: no help")
        added = with_defaults.get(invocation, "").removeprefix(text)  # what argparse appends
        suffix = re.fullmatch(r" ?\(default: (.*)\)", added)
        if suffix and suffix[1] not in TRIVIAL_DEFAULTS and suffix[1] not in text:
            problems.append(f"{name}: {invocation}: the help does not say the default {suffix[1]}")
    return problems


@pytest.fixture
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults as documented (no environment overrides), help on one line per argument."""
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.mark.usefixtures("plain_env")
def test_every_subcommand_describes_itself_and_its_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = list(every_command(monkeypatch))
    for known in [("check",), ("serve",), ("run",), ("sources",), ("partners", "new-key")]:
        assert known in commands  # the walk finds them all, nested ones too
    problems = []
    for path in commands:
        parser = parser_of(path, monkeypatch)
        problems += help_problems(parser, " ".join(["feeds", *path]))
        if path:  # listed with a summary in its parent's help
            parent = parser_of(path[:-1], monkeypatch).format_help()
            if not re.search(rf"^ +{re.escape(path[-1])}( +|\n +)\S", parent, re.MULTILINE):
                problems.append(f"feeds {' '.join(path)}: no summary in its parent's help")
    assert problems == []


@pytest.mark.usefixtures("plain_env")
def test_help_checks_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser(prog="feeds demo")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--since", help="only this recent")
    parser.add_argument("--mute", action="store_true")
    assert help_problems(parser, "feeds demo") == [
        "feeds demo: no description",
        "feeds demo: --port PORT: the help does not say the default 8000",
        "feeds demo: --mute: no help",
    ]


@pytest.mark.usefixtures("plain_env")
def test_serve_help_shows_its_defaults() -> None:
    done = subprocess.run(
        [str(FEEDS), "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    entries = help_entries(done.stdout)
    assert "(default: 127.0.0.1)" in entries["--host HOST"]
    assert "(env PORT, default: 8000)" in entries["--port PORT"]

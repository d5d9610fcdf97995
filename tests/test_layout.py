"""The shape of the code base, kept by tests: small modules and classes, each third-party
library declared and used from its one home, and nothing private of another library touched.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "feeds"
MIGRATIONS = PACKAGE / "store" / "migrations"
# The public API of named tuples (underscored so as not to clash with field names).
NAMED_TUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300

# Where each third-party library may be imported (a module, or a package given by its folder).
HOMES = {
    "alembic": ("store/",),
    "apscheduler": ("scheduler.py",),
    "babel": ("i18n.py",),
    "dateparser": ("parse/",),
    "feedgen": ("render/",),
    "feedparser": ("parse/feedparser_adapter.py",),
    "flask": ("web/",),
    "flask_babel": ("i18n.py",),
    "gunicorn": ("webserver.py",),
    "httpcore": ("fetch/transport.py",),
    "httpx": ("fetch/",),
    "jinja2": ("render/html.py",),
    "lxml": ("render/",),
    "markdown_it": ("articles.py",),
    "nh3": ("sanitize.py",),
    "sqlalchemy": ("store/",),
    "tomlkit": ("config/edit.py",),
    "werkzeug": ("web/",),
    "yaml": ("frontmatter.py",),
}


def modules() -> Iterator[tuple[str, ast.Module, str]]:
    """(path relative to feeds/, syntax tree, text) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(text), text


def third_party(name: str) -> bool:
    top = name.split(".")[0]
    return top not in sys.stdlib_module_names and top not in ("feeds", "_typeshed")


def imported(tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    """(module, names imported from it) for every import statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]


def test_modules_and_classes_are_small() -> None:
    too_long = []
    for rel, tree, text in modules():
        if (PACKAGE / rel).is_relative_to(MIGRATIONS):
            continue
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{rel}: {text.count(chr(10))} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    too_long.append(f"{rel}: class {node.name}: {length} lines")
    assert too_long == []


def test_every_third_party_import_is_declared_with_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {}
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0]
        declared[name.lower().replace("_", "-")] = requirement
    unbounded = [r for r in declared.values() if "<" not in r and "==" not in r]
    assert unbounded == []
    distributions = packages_distributions()
    missing = set()
    for rel, tree, _ in modules():
        for module, _names in imported(tree):
            if not third_party(module):
                continue
            top = module.split(".")[0]
            owners = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
            if not owners & declared.keys():
                missing.add(f"{rel}: {module} (from {sorted(owners)})")
    assert missing == set()


def test_each_library_is_imported_from_its_home_only() -> None:
    strays = []
    for rel, tree, _ in modules():
        for module, _names in imported(tree):
            homes = HOMES.get(module.split(".")[0])
            if homes is not None and not any(rel.startswith(home) for home in homes):
                strays.append(f"{rel} imports {module}")
    assert strays == []


def module_private_names(tree: ast.Module) -> set[str]:
    """The _names one module defines for itself: attributes it sets on its own objects
    (``self._x = ...``), its functions, classes and methods. Another object of the same module
    may use them (a module's classes work together); nothing else's private names may be."""
    names = set(NAMED_TUPLE_API)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
    return {n for n in names if n.startswith("_")}


def private_uses(tree: ast.Module) -> Iterator[str]:
    ours = module_private_names(tree)
    for module, names in imported(tree):
        if third_party(module):
            if any(part.startswith("_") for part in module.split(".")):
                yield f"import {module}"
            yield from (f"from {module} import {n}" for n in names if n.startswith("_"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            attr = node.attr
            private = attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))
            is_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if private and not is_self and attr not in ours:
                yield f"line {node.lineno}: .{attr}"
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.startswith("_")
            and not node.args[1].value.endswith("__")
            and node.args[1].value not in ours
        ):
            yield f"line {node.lineno}: setattr(..., {node.args[1].value!r})"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"_[A-Za-z]\w*__\w+", node.value)  # a name-mangled attribute
        ):
            yield f"line {node.lineno}: {node.value!r}"


def test_nothing_private_of_another_module_is_touched() -> None:
    found = [f"{rel}: {use}" for rel, tree, _ in modules() for use in private_uses(tree)]
    assert found == []


def test_no_test_touches_a_private_name() -> None:
    """Tests reach the code through public functions (a test that needs a private one is
    asking for a public seam); the test helpers' own private names are theirs."""
    found = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.name}: {use}" for use in private_uses(tree)]
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "headers._list = []",
        "x = transport._pool",
        "from feedparser.urls import _urljoin",
        "import httpx._transports.default",
        "setattr(fg, '_FeedGenerator__rss_lastBuildDate', None)",
        "client._transport.handle_request(request)",
        "monkeypatch.setattr(store_module, '_newest_times', spy)",
        "class A:\n    def f(self):\n        return self.pool._connections",
    ],
)
def test_the_private_use_check_can_fail(snippet: str) -> None:
    assert list(private_uses(ast.parse(snippet)))

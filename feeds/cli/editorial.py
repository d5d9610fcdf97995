"""The editors' desk: `feeds preview`, and the overrides (`hide`, `unhide`, `pin`, `unpin`,
`retitle`, `overrides`), each recorded with who, when and why. Every one of them needs the
service's database to exist (a mistyped --database must not record a hide where no clock
reads it)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime

from feeds.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    AddParser,
    add_command,
    config_dir,
    load,
    open_existing,
    plural,
)
from feeds.store import Store
from feeds.times import utc, utcnow
from feeds.types import Config, FeedSpec, Item, LeftOut, Override, OverrideAction

APPLIED = "a running clock publishes it within seconds (else: feeds update)"


def add_parsers(sub: AddParser) -> None:
    preview = add_command(
        sub,
        "preview",
        _preview,
        help="what a feed would hold now, without publishing (--explain: what it leaves out)",
        description="List the items FEED would publish now, in order, from the stored entries "
        "and articles and the config as it is on disk (filters, limit, overrides, rights), "
        "without publishing anything. With --explain, also every candidate left out and why: "
        "filter, age, duplicate of which item, hidden, embargoed, over the limit or the byte "
        "budget, and items whose text their source's rights cut.",
    )
    preview.add_argument("feed", metavar="FEED", help="the feed's name (feeds.toml)")
    preview.add_argument(
        "--explain", action="store_true", help="also list the candidates left out, and why"
    )
    for name, handler, text, description in (
        (
            "hide",
            _hide,
            "pull an item from every feed, variant, format and archive page",
            "Hide ITEM everywhere: every feed, partners' variants, every format, and the "
            "archive pages that hold it (written again). Recorded with who, when and why.",
        ),
        (
            "unhide",
            _unhide,
            "put a hidden item back",
            "End a hide: the item comes back wherever the feeds' rules put it.",
        ),
    ):
        parser = add_command(sub, name, handler, help=text, description=description)
        parser.add_argument("item", metavar="ITEM", help="the item's published id or its link")
        _who(parser)
    pin = add_command(
        sub,
        "pin",
        _pin,
        help="put an item first in one feed, until a time or for good",
        description="Pin ITEM to the top of FEED (newest pin first), whatever the feed's "
        "filters, age limit and dates say; it counts within the feed's limit. The item must be "
        "one of the feed's local articles or an entry of one of its sources.",
    )
    pin.add_argument("item", metavar="ITEM", help="the item's published id or its link")
    pin.add_argument("--feed", required=True, help="the feed to pin it in")
    pin.add_argument(
        "--until",
        type=_until,
        help='when the pin ends: ISO 8601 with an offset, or a duration such as "6h" '
        "(default: until unpinned)",
    )
    _who(pin)
    unpin = add_command(
        sub, "unpin", _unpin, help="end a pin", description="End ITEM's pin in FEED."
    )
    unpin.add_argument("item", metavar="ITEM", help="the item's published id or its link")
    unpin.add_argument("--feed", required=True, help="the feed it is pinned in")
    _who(unpin)
    retitle = add_command(
        sub,
        "retitle",
        _retitle,
        help="publish an item under another title, everywhere",
        description='Publish ITEM under TITLE in every feed and format; TITLE "" ends the '
        "retitle (the item's own title comes back).",
    )
    retitle.add_argument("item", metavar="ITEM", help="the item's published id or its link")
    retitle.add_argument("title", metavar="TITLE", help='the new title ("": the own title)')
    _who(retitle)
    listing = add_command(
        sub,
        "overrides",
        _overrides,
        help="the overrides in force, and the audit trail",
        description="List the overrides in force (hides, pins, retitles), then the newest "
        "override commands: when, who, what, why.",
    )
    listing.add_argument(
        "--log", type=int, default=20, metavar="N", help="audit lines to show (default: 20)"
    )


def _who(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", default=_user(), help="who does it (default: the OS user, %(default)s)"
    )
    parser.add_argument("--reason", default="", help="why (default: none given)")


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "unknown"


def _until(text: str) -> datetime:
    from feeds.config import parse_duration

    try:
        return utcnow() + parse_duration(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f'not a time (ISO 8601 with an offset) nor a duration ("6h"): {text!r}'
        ) from e
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time's UTC offset: {text!r}")
    return utc(value)


# --------------------------------------------------------------------------- preview


def _preview(args: argparse.Namespace) -> int:
    from feeds.pipeline import Pipeline

    config = load(config_dir(args))
    spec = _feed(config, args.feed)
    if spec is None:
        return EXIT_CONFIG
    with open_existing(args.database) as store, Pipeline(config, store) as pipeline:
        shown = pipeline.preview(spec)
    print(
        f"{spec.name}: {plural(len(shown.items), 'item')} (limit {spec.limit}, "
        f"content {spec.content.value}, access {spec.access.value})"
    )
    width = max((len(_origin(i)) for i in shown.items), default=0)
    for n, item in enumerate(shown.items, 1):
        print(f"{n:>3}  {item.published:%Y-%m-%dT%H:%MZ}  {_origin(item):<{width}}  {item.title}")
        print(f"     {' ' * 17}  {'':<{width}}  {item.id}")
    if args.explain:
        print()
        print(f"left out: {plural(len(shown.left_out), 'candidate')}")
        for out in shown.left_out:
            print(_left_out_line(out))
    return EXIT_OK


def _origin(item: Item) -> str:
    return item.sources[0].id if item.sources else "local"


def _left_out_line(out: LeftOut) -> str:
    return (
        f"  {out.reason.value:<9}  {out.published:%Y-%m-%dT%H:%MZ}  {out.source or 'local'}  "
        f"{out.title}\n  {' ' * 9}  {out.detail}; id {out.id}"
    )


def _feed(config: Config, name: str) -> FeedSpec | None:
    spec = config.feed(name)
    if spec is None:
        known = ", ".join(f.name for f in config.feeds) or "none"
        print(f"error: no feed {name!r} in feeds.toml; feeds: {known}", file=sys.stderr)
    return spec


# --------------------------------------------------------------------------- overrides


def _hide(args: argparse.Namespace) -> int:
    return _set(args, OverrideAction.HIDE, "hidden everywhere")


def _retitle(args: argparse.Namespace) -> int:
    if not args.title.strip():
        return _end(args, OverrideAction.RETITLE, "retitle ended")
    return _set(args, OverrideAction.RETITLE, f"retitled {args.title.strip()!r}")


def _pin(args: argparse.Namespace) -> int:
    config = load(config_dir(args))
    if _feed(config, args.feed) is None:
        return EXIT_CONFIG
    until = args.until
    if until is not None and until <= utcnow():
        print(f"error: --until is in the past: {until:%Y-%m-%dT%H:%MZ}", file=sys.stderr)
        return EXIT_CONFIG
    when = f" until {until:%Y-%m-%dT%H:%MZ}" if until else ""
    return _set(args, OverrideAction.PIN, f"pinned first in {args.feed}{when}", config)


def _unhide(args: argparse.Namespace) -> int:
    return _end(args, OverrideAction.HIDE, "unhidden")


def _unpin(args: argparse.Namespace) -> int:
    return _end(args, OverrideAction.PIN, f"unpinned from {args.feed}")


def _set(
    args: argparse.Namespace, action: OverrideAction, done: str, config: Config | None = None
) -> int:
    config = config or load(config_dir(args))
    item = args.item.strip()
    if not item:
        print("error: ITEM is empty: give an item's published id or its link", file=sys.stderr)
        return EXIT_CONFIG
    override = Override(
        item=item,
        action=action,
        by=args.by,
        reason=args.reason,
        at=utcnow(),
        feed=args.feed if action is OverrideAction.PIN else "",
        value=args.title.strip() if action is OverrideAction.RETITLE else "",
        until=args.until if action is OverrideAction.PIN else None,
    )
    with open_existing(args.database) as store:
        ids = store.item_ids_for(item, config.site)
        known = len(ids) > 1 or _is_article(store, item)
        store.add_override(override, ids)
    print(f"{item}: {done} (by {args.by}{': ' + args.reason if args.reason else ''}); {APPLIED}")
    if not known:
        print(
            f"warning: no stored entry or article has the id or link {item!r} yet; "
            "the override applies if one appears",
            file=sys.stderr,
        )
    return EXIT_OK


def _is_article(store: Store, link: str) -> bool:
    return any(a.link == link for a in store.articles())


def _end(args: argparse.Namespace, action: OverrideAction, done: str) -> int:
    config = load(config_dir(args))
    item = args.item.strip()
    feed = getattr(args, "feed", "") if action is OverrideAction.PIN else ""
    with open_existing(args.database) as store:
        ended = store.remove_override(
            item,
            action,
            by=args.by,
            reason=args.reason,
            now=utcnow(),
            feed=feed,
            item_ids=store.item_ids_for(item, config.site),
        )
    if not ended:
        where = f" in {feed}" if feed else ""
        print(f"error: {item!r} has no {action.value}{where} in force", file=sys.stderr)
        return 1
    print(f"{item}: {done} (by {args.by}); {APPLIED}")
    return EXIT_OK


def _overrides(args: argparse.Namespace) -> int:
    with open_existing(args.database) as store:
        now = utcnow()
        current = store.overrides()
        trail = store.override_log(max(0, args.log))
    live = [o for o in current if o.until is None or o.until > now]
    print(f"in force: {plural(len(live), 'override')}")
    for o in live:
        what = {
            OverrideAction.HIDE: "hidden",
            OverrideAction.PIN: f"pinned in {o.feed}"
            + (f" until {o.until:%Y-%m-%dT%H:%MZ}" if o.until else ""),
            OverrideAction.RETITLE: f"retitled {o.value!r}",
        }[o.action]
        why = f": {o.reason}" if o.reason else ""
        print(f"  {o.item}  {what}  (by {o.by} at {o.at:%Y-%m-%dT%H:%MZ}{why})")
    if trail:
        print(f"audit trail (newest first, {plural(len(trail), 'line')}):")
    for r in trail:
        extra = " ".join(
            part
            for part in (
                f"feed={r.feed}" if r.feed else "",
                f"title={r.value!r}" if r.value else "",
                f"until={r.until:%Y-%m-%dT%H:%MZ}" if r.until else "",
            )
            if part
        )
        why = f": {r.reason}" if r.reason else ""
        print(f"  {r.at:%Y-%m-%dT%H:%M:%SZ}  {r.by}  {r.action}  {r.item}  {extra}{why}".rstrip())
    return EXIT_OK

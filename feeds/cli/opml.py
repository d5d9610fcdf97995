"""`feeds import-opml` and `feeds export-opml`: reading lists in and out of sources.toml
(docs/opml.md)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from feeds.cli.common import EXIT_OK, AddParser, add_command, config_dir, load, plural
from feeds.errors import ConfigError
from feeds.opml import ImportPlan, NewSource, OpmlError, Step, Verdict, tags_of


def add_parsers(sub: AddParser) -> None:
    importer = add_command(
        sub,
        "import-opml",
        lambda args: import_opml(config_dir(args), args.file, args.tag, dry_run=args.dry_run),
        help="add the feeds of an OPML reading list to sources.toml",
        description="Add every feed of an OPML file (as feed readers export them) to "
        "sources.toml as a [[source]] table, after the sources already there, keeping the "
        "file's comments and layout. Feeds whose URL is already configured are skipped (http "
        "and https, case of the host, tracking parameters and a trailing slash do not make a "
        "URL new), and so is a feed listed twice (its folders become tags of the first). The "
        "folders around a feed and its categories become its tags; ids are made from titles. "
        "Prints one line per outline, then a summary; exit status 0, or 2 (and nothing "
        "changed) when the file is not OPML or sources.toml cannot be edited.",
    )
    importer.add_argument("file", metavar="FILE", help="the OPML file to import")
    importer.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="T",
        type=_tag,
        help="also give every imported source this tag (repeatable; default: only the tags "
        "of the file's folders and categories)",
    )
    importer.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be added and change nothing (default: write sources.toml)",
    )
    exporter = add_command(
        sub,
        "export-opml",
        lambda args: export_opml(config_dir(args), public=args.public),
        help="print the enabled sources as an OPML 2.0 reading list",
        description="Print an OPML 2.0 document listing the enabled sources of the config: "
        "title, feed URL, tags as categories, and the source's id and settings (feeds:id, "
        "feeds:interval, ...), so that import-opml gives the same sources back. Disabled "
        "sources are left out.",
    )
    exporter.add_argument(
        "--public",
        action="store_true",
        help="what /sources.opml serves instead: without sources only partners feeds use, "
        "credentials in URLs or settings (default: every enabled source, URLs as configured)",
    )


def _tag(text: str) -> str:
    """A tag as given (white space trimmed): one that an export can write as an OPML
    category, so no comma or slash."""
    tags = tags_of(text)
    if len(tags) != 1 or tags[0] != " ".join(text.split()):
        raise argparse.ArgumentTypeError(f"not one tag (no comma or slash): {text!r}")
    return tags[0]


def import_opml(
    config_dir: Path, file: str, extra_tags: Sequence[str] = (), *, dry_run: bool = False
) -> int:
    """Import the reading list ``file`` into ``config_dir``/sources.toml (see the command's
    description); a problem with either file raises :class:`ConfigError` before anything
    is written."""
    from feeds.config.edit import add_sources, read_sources_file
    from feeds.opml import parse_opml, plan_import

    try:
        data = Path(file).read_bytes()
    except OSError as e:
        raise ConfigError([f"{file}: cannot read: {e.strerror or e}"]) from e
    try:
        opml = parse_opml(data)
    except OpmlError as e:
        raise ConfigError([f"{file}: {e}"]) from e
    sources_file = read_sources_file(config_dir)
    plan = plan_import(opml, sources_file.sources, extra_tags)
    add_sources(
        sources_file,
        [source.table() for source in plan.sources],
        comment=f"Imported from {Path(file).name} by feeds import-opml",
        write=not dry_run,
    )
    added = {source.id: source for source in plan.sources}
    for step in plan.steps:
        print(_line(step, added, dry_run))
    print(_summary(file, sources_file.path, plan, dry_run))
    return EXIT_OK


def _line(step: Step, added: Mapping[str, NewSource], dry_run: bool) -> str:
    outline = step.outline
    where = f"line {outline.line}: "
    if step.verdict is Verdict.ADDED:
        source = added[step.source_id]
        tags = f" (tags: {', '.join(source.tags)})" if source.tags else ""
        note = f"; {step.note}" if step.note else ""
        verb = "would add" if dry_run else "added"
        return f'{where}{verb} {source.id} "{source.title}" {source.url}{tags}{note}'
    what = outline.url if outline.url is not None else f'"{outline.title or "(no title)"}"'
    reason = {
        Verdict.PRESENT: f"already in sources.toml as {step.source_id}",
        Verdict.REPEATED: step.note,
        Verdict.NOT_FEED: f"not a feed ({step.note})",
        Verdict.BAD_URL: step.note,
        Verdict.COMMENTED: f"commented out ({step.note})",
    }[step.verdict]
    return f"{where}skipped {what}: {reason}"


# How the summary counts each kind of skipped outline: singular, plural.
_REASONS = {
    Verdict.PRESENT: ("already present", "already present"),
    Verdict.REPEATED: ("listed twice", "listed twice"),
    Verdict.NOT_FEED: ("not a feed", "not feeds"),
    Verdict.BAD_URL: ("unusable URL", "unusable URLs"),
    Verdict.COMMENTED: ("commented out", "commented out"),
}


def _summary(file: str, target: Path, plan: ImportPlan, dry_run: bool) -> str:
    added = plural(len(plan.sources), "source")
    counts: Counter[Verdict] = Counter(
        step.verdict for step in plan.steps if step.verdict is not Verdict.ADDED
    )
    skipped = sum(counts.values())
    reasons = ", ".join(
        plural(counts[verdict], *_REASONS[verdict]) for verdict in Verdict if counts[verdict]
    )
    text = (
        f"{file}: {added} {'to add to' if dry_run else 'added to'} {target}; "
        f"{plural(skipped, 'outline')} skipped" + (f" ({reasons})" if reasons else "")
    )
    return text + ("; nothing written (--dry-run)" if dry_run else "")


def export_opml(config_dir: Path, *, public: bool = False) -> int:
    """Print the reading list of the config's enabled sources to standard output."""
    from feeds.opml import opml_document

    body = opml_document(load(config_dir), public=public)
    sys.stdout.flush()
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    return EXIT_OK

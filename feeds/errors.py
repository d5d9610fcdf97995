"""One exception tree for the whole service.

Foreign exceptions are wrapped with ``raise ... from e`` at the module that owns the library.
Where one failure must not stop the rest (a source's fetch, an article file), the failure is
returned as a value instead (see ``types.FetchResult`` and ``types.RefreshOutcome``).
"""

from __future__ import annotations

from feeds.types import ErrorKind


class FeedsError(Exception):
    """Base of every error this package raises."""


class ConfigError(FeedsError):
    """The configuration is invalid. ``problems`` holds one ``FILE: key: problem`` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) or "invalid configuration")


class FetchError(FeedsError):
    """A fetch failed; ``kind`` classifies it."""

    def __init__(
        self, message: str, kind: ErrorKind = ErrorKind.NETWORK, http_status: int | None = None
    ) -> None:
        self.kind = kind
        self.http_status = http_status
        super().__init__(message)


class ParseError(FeedsError):
    """A body could not be understood as a feed."""


class ArticleError(FeedsError):
    """A local article file is invalid; the message names the file and the problem."""


class StoreError(FeedsError):
    """The database could not be opened, migrated, read or written."""

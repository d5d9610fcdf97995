"""Typed, frozen values passed between the stages of the pipeline.

config -> fetch -> parse -> normalize -> store -> merge -> render -> serve

One module per group (``config``: what the files say; ``content``: entries, articles, items
and documents; ``sources``: fetches and source states; ``storage``: what the pipeline and the
store pass each other; ``readership``: what the web process counts and the store reports;
``status``: the clocks' heartbeats and the problems editors are shown; ``webhooks``: the
webhooks, their events and delivery state),
every name re-exported here: ``from feeds.types import Item``. These modules import the
standard library only, so every other module can use them. All datetimes are timezone-aware
and in UTC.
"""

from feeds.types.config import (
    Access,
    Config,
    ContentMode,
    FeedSpec,
    FetchSettings,
    Partner,
    Republish,
    Site,
    Source,
)
from feeds.types.content import (
    Article,
    Document,
    Enclosure,
    Entry,
    Format,
    Image,
    Item,
    ItemSource,
    Page,
    ParsedEntry,
    ParsedFeed,
    Rendered,
)
from feeds.types.editorial import (
    LeftOut,
    LeftOutReason,
    Override,
    OverrideAction,
    OverrideRecord,
    Overrides,
)
from feeds.types.readership import (
    ClientSighting,
    DailyClients,
    FeedReads,
    PartnerReads,
    Readership,
    ReadershipBatch,
    RequestTally,
    SubscriberReport,
)
from feeds.types.sources import (
    ErrorKind,
    FetchResult,
    FetchStatus,
    RefreshOutcome,
    SourceState,
    SourceStatus,
    shown_state,
)
from feeds.types.status import (
    ARTICLE_PROBLEMS,
    FORGET_AFTER,
    HEARTBEAT_SECONDS,
    STALE_AFTER,
    ClockBeat,
    Problem,
    ProblemChanges,
    split_problems,
)
from feeds.types.storage import (
    DURATION_BUCKETS,
    DURATION_LABELS,
    ArchivePage,
    EntryTimes,
    FetchRecord,
    HubPing,
    PendingPing,
    RefreshWrite,
    SourceCounters,
    StoredRefresh,
    duration_bucket,
)
from feeds.types.webhooks import EventType, ItemEvents, OutboxEvent, Webhook, WebhookState

__all__ = [
    "ARTICLE_PROBLEMS",
    "DURATION_BUCKETS",
    "DURATION_LABELS",
    "FORGET_AFTER",
    "HEARTBEAT_SECONDS",
    "STALE_AFTER",
    "Access",
    "ArchivePage",
    "Article",
    "ClientSighting",
    "ClockBeat",
    "Config",
    "ContentMode",
    "DailyClients",
    "Document",
    "Enclosure",
    "Entry",
    "EntryTimes",
    "ErrorKind",
    "EventType",
    "FeedReads",
    "FeedSpec",
    "FetchRecord",
    "FetchResult",
    "FetchSettings",
    "FetchStatus",
    "Format",
    "HubPing",
    "Image",
    "Item",
    "ItemEvents",
    "ItemSource",
    "LeftOut",
    "LeftOutReason",
    "OutboxEvent",
    "Override",
    "OverrideAction",
    "OverrideRecord",
    "Overrides",
    "Page",
    "ParsedEntry",
    "ParsedFeed",
    "Partner",
    "PartnerReads",
    "PendingPing",
    "Problem",
    "ProblemChanges",
    "Readership",
    "ReadershipBatch",
    "RefreshOutcome",
    "RefreshWrite",
    "Rendered",
    "Republish",
    "RequestTally",
    "Site",
    "Source",
    "SourceCounters",
    "SourceState",
    "SourceStatus",
    "StoredRefresh",
    "SubscriberReport",
    "Webhook",
    "WebhookState",
    "duration_bucket",
    "shown_state",
    "split_problems",
]

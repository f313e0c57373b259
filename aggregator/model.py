"""Typed values that cross from one stage to the next.

PURE: frozen dataclasses only; nothing here reads the clock, the network or the disk.
The flow is Site/Source (config) → Fetched (fetch) → RawFeed/RawEntry (parse) →
Article (normalise) → stored rows → FeedItem (publish).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# ---------------------------------------------------------------- config ①


@dataclass(frozen=True, slots=True)
class HtmlRules:
    """CSS selectors that turn a list page into entries (`selector@attr` reads an attribute)."""

    item: str
    title: str
    link: str
    date: str | None = None
    summary: str | None = None
    image: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """One configured source with every default already applied."""

    id: str
    url: str
    region: str
    title: str | None = None
    type: Literal["feed", "html"] = "feed"
    channels: tuple[str, ...] = ()
    interval: timedelta = timedelta(minutes=15)
    timeout: timedelta = timedelta(seconds=20)
    fulltext: bool = False
    fulltext_selector: str | None = None
    html: HtmlRules | None = None
    allow_private_networks: bool = False
    per_host: int = 1
    host_gap: timedelta = timedelta(seconds=1)
    max_bytes: int = 10 * 1024 * 1024
    keep_days: int = 90
    line: int = 0  # where it sits in feeds.yaml, for messages

    @property
    def name(self) -> str:
        return self.title or self.id


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    title: str
    parent: str | None
    children: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # sources sitting directly in this region


CHANNEL_FIELDS = ("title", "categories", "summary")


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    title: str
    keywords: tuple[str, ...] = ()  # substrings (Chinese has no spaces between words)
    exclude: tuple[str, ...] = ()  # keywords that keep an article out of this channel
    categories: tuple[str, ...] = ()  # source categories that map onto this channel
    words: tuple[str, ...] = ()  # whole words after jieba segmentation (会议 is not 会议室)
    match: tuple[str, ...] = ("title", "categories")  # where keywords and words are looked for


@dataclass(frozen=True, slots=True)
class Dedupe:
    """How syndicated copies are found (feeds.yaml `dedupe:`)."""

    window: timedelta = timedelta(days=7)  # copies are published at most this far apart
    threshold: float = 0.8  # similarity a near-duplicate needs (see normalise.dedupe)


@dataclass(frozen=True, slots=True)
class Defaults:
    interval: timedelta = timedelta(minutes=15)
    timeout: timedelta = timedelta(seconds=20)
    keep_days: int = 90
    allow_private_networks: bool = False
    per_host: int = 1
    host_gap: timedelta = timedelta(seconds=1)
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Site:
    """The whole of feeds.yaml, validated, with the region tree flattened for lookups."""

    title: str
    base_url: str
    timezone: str = "Asia/Shanghai"
    hub: str | None = None
    description: str | None = None
    defaults: Defaults = field(default_factory=Defaults)
    dedupe: Dedupe = field(default_factory=Dedupe)
    channels: tuple[Channel, ...] = ()
    regions: dict[str, Region] = field(default_factory=dict)  # in file order, parents first
    sources: dict[str, Source] = field(default_factory=dict)  # in file order

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def ancestors(self, region_id: str) -> tuple[str, ...]:
        """The region itself and every region above it, innermost first."""
        out: list[str] = []
        current: str | None = region_id
        while current is not None and current in self.regions:
            out.append(current)
            current = self.regions[current].parent
        return tuple(out)

    def descendants(self, region_id: str) -> tuple[str, ...]:
        """The region itself and every region below it."""
        out = [region_id]
        for child in self.regions[region_id].children:
            out.extend(self.descendants(child))
        return tuple(out)

    def region_sources(self, region_id: str) -> tuple[str, ...]:
        """Ids of the sources in a region or anywhere below it."""
        return tuple(
            sid for rid in self.descendants(region_id) for sid in self.regions[rid].sources
        )

    @property
    def roots(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions.values() if r.parent is None)


# ---------------------------------------------------------------- fetch ②


@dataclass(frozen=True, slots=True)
class Fetched:
    """A 200 response body and the HTTP facts the poller keeps."""

    url: str  # the URL finally answered (after redirects)
    body: bytes
    content_type: str | None = None
    charset: str | None = None  # from the Content-Type header
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    permanent_url: str | None = None  # set when a 301/308 moved the source
    headers: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- parse ③


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as the document states it; nothing cleaned or resolved yet."""

    guid: str | None = None
    link: str | None = None
    title: str | None = None  # may hold markup and entities
    summary: str | None = None  # HTML
    content: str | None = None  # HTML
    author: str | None = None
    categories: tuple[str, ...] = ()
    published_raw: str | None = None  # the date string exactly as written
    updated_raw: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    image: str | None = None
    base: str | None = None  # xml:base or page URL links are relative to


@dataclass(frozen=True, slots=True)
class RawFeed:
    format: str  # rss20, atom10, rss10, html, …
    title: str | None = None
    link: str | None = None
    entries: tuple[RawEntry, ...] = ()
    ttl_minutes: int | None = None  # hints that set a floor on the poll interval
    update_period: timedelta | None = None
    warnings: tuple[str, ...] = ()
    encoding: str | None = None
    parser: str = ""  # which reader made it: lxml, feedparser or html (for benchmarks)


# ---------------------------------------------------------------- normalise ④


class DatePrecision(enum.StrEnum):
    DATETIME = "datetime"
    DATE = "date"  # only the day was given (in the site's zone)
    NONE = "none"  # no usable date: the first-seen time stands in


@dataclass(frozen=True, slots=True)
class Article:
    """One normalised entry of one source, ready to store."""

    source_id: str
    key: str  # identity within the source (guid, else canonical link, else content)
    link: str  # absolute, tracking parameters removed
    title: str  # plain text
    summary: str  # sanitised HTML
    content: str  # sanitised HTML ('' when the source gave only a summary)
    author: str | None
    categories: tuple[str, ...]
    published: datetime  # aware, UTC
    precision: DatePrecision
    channels: tuple[str, ...]
    content_hash: str  # changes when anything a reader sees changes
    channel_rules: tuple[tuple[str, str], ...] = ()  # (channel, rule that matched), for admins
    guid: str | None = None
    canonical_link: str = ""  # the identity form of `link`, for cross-source matching
    origin: str | None = None  # publisher named in a 来源 line
    image: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    text: str = ""  # plain text of the body, for search and de-duplication
    published_raw: str | None = None  # the date exactly as the source wrote it
    # <link rel="canonical"> of the article page (fulltext sources). Not used for identity
    # yet: sites point it at their home page or list page often enough that it must be
    # checked before two entries are merged on it.
    page_canonical: str | None = None
    # Worked out in the parser process (poller.work.prepare), so the store's one writer
    # does not: the de-duplication fingerprint and the search terms of title and text.
    # None where not computed, and reset wherever title or text change (normalise.fulltext).
    printed: Fingerprint | None = None
    terms: str | None = None  # search index tokens, space-separated (normalise.terms)

    def fingerprinted(self) -> Fingerprint:
        """The fingerprint, computed here when the parser process did not."""
        if self.printed is not None:
            return self.printed
        from aggregator.normalise.fingerprint import fingerprint

        return fingerprint(self.title, self.text)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What de-duplication keeps of an article: normalised title and body, lookup keys
    (normalise.fingerprint computes it)."""

    title: str
    body: str
    keys: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FullText:
    """What fetching one entry's article page gave (`fulltext: true`), kept per entry so
    a page is fetched once. Text fields are already sanitised."""

    url: str
    fetched_at: datetime
    ok: bool
    message: str = ""  # why it failed, or a warning
    retry: bool = False  # a failure worth another try on a later poll (timeouts, 5xx)
    tries: int = 1
    body: str = ""  # sanitised HTML
    text: str = ""  # plain text of the body
    author: str | None = None
    origin: str | None = None  # 来源
    published_raw: str | None = None  # the date as printed on the page
    canonical: str | None = None


# ---------------------------------------------------------------- poll results ⑦


class PollStatus(enum.StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    UNCHANGED = "unchanged"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    DNS = "dns"
    CONNECTION = "connection"
    TLS = "tls"
    TOO_LARGE = "too_large"
    ANTI_BOT = "anti_bot"
    PARSE_ERROR = "parse_error"
    EMPTY = "empty"
    ENCODING_SUSPECT = "encoding_suspect"
    GONE = "gone"
    BLOCKED = "blocked"  # address refused (private network)
    REDIRECT = "redirect"  # too many redirects or a loop
    SELECTOR_EMPTY = "selector_empty"
    SELECTOR_DRIFT = "selector_drift"
    ERROR = "error"  # anything unexpected; the message says what

    @property
    def is_success(self) -> bool:
        return self in _SUCCESS


_SUCCESS = frozenset(
    {
        PollStatus.OK,
        PollStatus.NOT_MODIFIED,
        PollStatus.UNCHANGED,
        PollStatus.EMPTY,
        PollStatus.ENCODING_SUSPECT,
        PollStatus.SELECTOR_DRIFT,
    }
)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one source came to; stored on the source's health record."""

    source_id: str
    status: PollStatus
    started: datetime
    duration: float  # seconds
    message: str = ""
    http_status: int | None = None
    bytes: int = 0
    entries_seen: int = 0
    entries_new: int = 0
    entries_updated: int = 0
    next_poll_at: datetime | None = None
    next_poll_reason: str = "interval"
    retry_after: datetime | None = None
    fetch_seconds: float | None = None  # the HTTP exchange alone (duration adds parse, store)


# ---------------------------------------------------------------- publish ⑥


FeedFormat = Literal["rss", "atom", "json"]


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Which articles a feed holds: a region, a channel, both, or one source."""

    kind: Literal["region", "channel", "region_channel", "source"]
    region: str | None = None
    channel: str | None = None
    source: str | None = None

    @property
    def key(self) -> str:
        """The membership key stored per story (see store.tables.FeedMember)."""
        if self.kind == "region":
            return f"r:{self.region}"
        if self.kind == "channel":
            return f"c:{self.channel}"
        if self.kind == "region_channel":
            return f"rc:{self.region}:{self.channel}"
        return f"s:{self.source}"

    @property
    def path(self) -> str:
        """The URL path of this feed without the extension."""
        if self.kind == "region":
            return f"/feeds/region/{self.region}"
        if self.kind == "channel":
            return f"/feeds/channel/{self.channel}"
        if self.kind == "region_channel":
            return f"/feeds/region/{self.region}/{self.channel}"
        return f"/feeds/source/{self.source}"


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a feed (newest first): entries strictly older than this."""

    published: datetime
    story_id: int


@dataclass(frozen=True, slots=True)
class FeedQuery:
    scope: FeedScope
    limit: int = 50
    q: str | None = None
    before: Cursor | None = None


@dataclass(frozen=True, slots=True)
class Appearance:
    """One place a story was published: a source's copy of it."""

    source_id: str
    source_name: str
    region: str
    link: str
    published: datetime
    source_url: str | None = None  # the source's feed or page URL


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One story as feeds show it: the best copy plus every appearance."""

    story_id: int
    title: str
    link: str
    summary: str
    content: str
    author: str | None
    published: datetime
    updated: datetime
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    region: str
    source_id: str
    source_name: str
    source_url: str | None
    guid: str  # stable id used in every format
    appearances: tuple[Appearance, ...] = ()
    image: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class FeedPage:
    """What a feed request renders: its items and the cursor of the next page."""

    query: FeedQuery
    title: str
    items: tuple[FeedItem, ...]
    next_cursor: Cursor | None = None

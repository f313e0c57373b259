"""Logs an admin can read and Prometheus metrics.

One log line per poll: source, region, status, HTTP code, duration, bytes, new entries.
Lines are JSON when stderr is not a terminal (for collectors), key=value text when it is.
"""

from __future__ import annotations

import logging
import math
import sys
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aggregator.model import PollResult, Source

_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60)
POLLS = Counter("aggregator_polls_total", "Polls by outcome", ["status"])
FETCH_SECONDS = Histogram(
    "aggregator_fetch_seconds", "Time of the HTTP exchange of a poll", buckets=_BUCKETS
)
POLL_SECONDS = Histogram(
    "aggregator_poll_seconds", "Time per poll (fetch, parse, store)", buckets=_BUCKETS
)
BYTES = Counter("aggregator_fetched_bytes_total", "Bytes fetched from sources")
ENTRIES = Counter("aggregator_entries_ingested_total", "Entries stored", ["kind"])
RETENTION = Counter("aggregator_retention_deleted_total", "Rows retention deleted", ["kind"])
SCHEDULER_LAG = Gauge("aggregator_scheduler_lag_seconds", "How late the last claimed poll started")


class SourceHealthCollector(Collector):
    """Per-status and per-source gauges from the sources' rows, read at scrape time.

    They come from the database, not from this process's polls, so any server shows the
    work of every poller. One series per source is fine at thousands of sources.
    """

    def __init__(self) -> None:
        self._rows: Sequence[Any] = ()
        self._now = datetime.now(UTC)

    def update(self, rows: Sequence[Any], now: datetime) -> None:
        self._rows, self._now = rows, now

    def collect(self) -> Iterator[Metric]:
        rows = [r for r in self._rows if r.active]
        by_status = GaugeMetricFamily(
            "aggregator_sources", "Sources by the status of their last poll", labels=["status"]
        )
        for status, n in sorted(Tally(r.status or "new" for r in rows).items()):
            by_status.add_metric([status], n)
        yield by_status
        age = GaugeMetricFamily(
            "aggregator_source_last_success_age_seconds",
            "Seconds since each source's last successful poll (+Inf: polled, never succeeded)",
            labels=["source"],
        )
        failures = GaugeMetricFamily(
            "aggregator_source_consecutive_failures",
            "Failed polls in a row per source (0 after a success)",
            labels=["source"],
        )
        for r in rows:
            if r.last_attempt_at is None:
                continue
            since = (
                (self._now - r.last_success_at).total_seconds() if r.last_success_at else math.inf
            )
            age.add_metric([r.id], max(since, 0.0))
            failures.add_metric([r.id], r.consecutive_failures)
        yield age
        yield failures
        overdue = [
            (self._now - r.next_poll_at).total_seconds()
            for r in rows
            if not r.paused and not r.gone and r.next_poll_at < self._now
        ]
        yield GaugeMetricFamily(
            "aggregator_schedule_overdue_seconds",
            "How long the most overdue source has waited past its next poll time",
            value=max(overdue, default=0.0),
        )


SOURCE_HEALTH = SourceHealthCollector()
REGISTRY.register(SOURCE_HEALTH)
FEED_RENDERS = Counter("aggregator_feed_renders_total", "Feeds rendered (cache misses)", ["format"])
FEED_REQUESTS = Counter("aggregator_feed_requests_total", "Feed requests", ["outcome"])

poll_log = logging.getLogger("aggregator.poll")
_NEW, _UPDATED = ENTRIES.labels("new"), ENTRIES.labels("updated")
_BY_STATUS: dict[str, Any] = {}  # POLLS' child per status: labels() costs a lock and a tuple
# The poll line's source location, given rather than found: Logger.log walks the stack
# for it (findCaller), a good share of a line's cost at a thousand polls a second.
_WHERE = (__file__, 0, "record_poll")


def record_poll(result: PollResult, stats: Any, source: Source) -> None:
    """Count one poll and write its log line."""
    status = result.status.value
    counter = _BY_STATUS.get(status)
    if counter is None:
        counter = _BY_STATUS[status] = POLLS.labels(status)
    counter.inc()
    POLL_SECONDS.observe(result.duration)
    if result.fetch_seconds is not None:
        FETCH_SECONDS.observe(result.fetch_seconds)
    if result.bytes:
        BYTES.inc(result.bytes)
    if stats.new:
        _NEW.inc(stats.new)
    if stats.updated:
        _UPDATED.inc(stats.updated)
    level = logging.INFO if result.status.is_success else logging.WARNING
    if not poll_log.isEnabledFor(level):
        return
    fields = {
        "event": "poll",
        "source": source.id,
        "region": source.region,
        "status": status,
        "http": result.http_status,
        "ms": round(result.duration * 1000),
        "bytes": result.bytes,
        "new": stats.new,
        "updated": stats.updated,
        "detail": result.message[:200] or None,
        "next": result.next_poll_at.isoformat(timespec="seconds") if result.next_poll_at else None,
    }
    path, line, func = _WHERE
    record = poll_log.makeRecord(
        poll_log.name, level, path, line, "poll %s %s", (source.id, status), None, func, fields
    )
    poll_log.handle(record)


_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STD and v is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(_fields(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = _fields(record)
        if fields.get("event") == "poll":
            f = fields
            line = (
                f"{when} {f['status']:<13} {f['source']:<24} http={f.get('http') or '-'} "
                f"{f['ms']}ms {f['bytes']}B new={f['new']}"
            )
            if f.get("detail"):
                line += f"  {f['detail']}"
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            line = f"{when} {record.levelname.lower():<7} {record.getMessage()} {extra}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    use_json = (not sys.stderr.isatty()) if json is None else json
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

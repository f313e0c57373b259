"""The aggregator's errors. PURE.

AggregatorError
├── ConfigError            feeds.yaml is invalid; .problems lists every PATH:LINE: message
├── FetchError             a source could not be fetched; .status is the health status
├── ParseError             the bytes are not a feed we can read
├── StoreError             the database refused
├── NotFound (LookupError) an unknown region, channel, source or article
└── BadParameter (ValueError) a query parameter a client got wrong
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.model import PollStatus


class AggregatorError(Exception):
    """Base of every error the aggregator raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a config file, located by line."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ConfigError(AggregatorError):
    """feeds.yaml is invalid; every problem is listed, each with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FetchError(AggregatorError):
    """A fetch failed; `status` says how, for the source's health record."""

    def __init__(
        self,
        status: PollStatus,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        bytes_read: int = 0,
    ) -> None:
        self.status = status
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after  # seconds, when the server asked us to wait
        self.bytes_read = bytes_read
        super().__init__(f"fetch: {message}")


class ParseError(AggregatorError):
    """The document could not be read as a feed (or list page) at all."""

    def __init__(self, message: str, status: PollStatus = PollStatus.PARSE_ERROR) -> None:
        self.status = status
        self.message = message
        super().__init__(f"parse: {message}")


class StoreError(AggregatorError):
    """The database failed or refused a write."""


class NotFound(AggregatorError, LookupError):
    """An unknown id in a URL: answers 404."""


class BadParameter(AggregatorError, ValueError):
    """A query parameter a client got wrong: answers 400 with this message."""

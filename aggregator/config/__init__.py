"""Stage ①: feeds.yaml → Site.

`load` is the one place the file is read; everything after the bytes is pure
(`load_bytes`, `load_text`), so the CLI's `check`, the server's reload and the tests
share one path and one set of messages.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from aggregator.config.schema import ID_PATTERN, css_is_valid, parse_site, split_selector
from aggregator.config.units import parse_duration, parse_size
from aggregator.errors import ConfigError, Problem
from aggregator.model import Site

__all__ = [
    "ID_PATTERN",
    "ConfigError",
    "LoadedConfig",
    "css_is_valid",
    "load",
    "load_bytes",
    "load_text",
    "parse_duration",
    "parse_size",
    "split_selector",
    "summarise",
]


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A valid config and what identifies it: where it came from and its file hash."""

    site: Site
    path: str  # as the caller gave it; problems and the summary name it so
    sha256: str  # hex digest of the file's bytes, to tell whether an edit changed anything
    summary: str  # the line `aggregator check` prints for a valid file


def load(path: str | os.PathLike[str]) -> LoadedConfig:
    """Read and validate feeds.yaml; raise ConfigError listing every problem."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError([Problem(shown, 1, f"cannot read file: {reason}")]) from exc
    return load_bytes(data, shown)


def load_bytes(data: bytes, path: str) -> LoadedConfig:
    """Validate the file's bytes: UTF-8, with or without a byte order mark. PURE."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([_not_utf8(data, exc, path)]) from None
    return _loaded(parse_site(text, path), path, hashlib.sha256(data).hexdigest())


def load_text(text: str, path: str) -> LoadedConfig:
    """Validate feeds.yaml text (sha256 is that of its UTF-8 bytes). PURE."""
    return _loaded(parse_site(text, path), path, hashlib.sha256(text.encode()).hexdigest())


def summarise(site: Site, path: str) -> str:
    """`feeds.yaml: ok — 14 regions, 6 channels, 40 sources (38 feed, 2 html)`"""
    html = sum(1 for s in site.sources.values() if s.type == "html")
    feed = len(site.sources) - html
    return (
        f"{path}: ok — {_count(len(site.regions), 'region')}, "
        f"{_count(len(site.channels), 'channel')}, "
        f"{_count(len(site.sources), 'source')} ({feed} feed, {html} html)"
    )


def _loaded(site: Site, path: str, sha256: str) -> LoadedConfig:
    return LoadedConfig(site=site, path=path, sha256=sha256, summary=summarise(site, path))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _not_utf8(data: bytes, exc: UnicodeDecodeError, path: str) -> Problem:
    """Say where the first bad byte is, and name GBK when that is what the file is."""
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    try:
        data.decode("gb18030")
        guess = " (it looks like GBK/GB18030)"
    except UnicodeDecodeError:
        guess = ""
    return Problem(
        path,
        line,
        f"the file is not UTF-8{guess}: byte 0x{data[start]:02x} at column {column}; "
        "save it as UTF-8",
    )

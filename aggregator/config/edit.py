"""Adding sources to feeds.yaml without disturbing what an admin wrote (`opml import`).

The file is parsed with ruamel.yaml's round-trip loader, which records the line and column
of every node; the new entries are then inserted as text at those positions, so every
existing byte (comments, blank lines, anchors, quoting, key order) stays as it was. A
round-trip *dump* would move comments that trail a list past the new entries, which is
why the text is edited instead. The result is checked with the config loader: it must
be valid, hold the new sources exactly as planned, and hold everything else unchanged.

`plan_import` and `add_sources` are PURE; `write_atomically` is the one function that
touches the disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic_core import PydanticCustomError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from aggregator.config import ID_PATTERN, LoadedConfig, load_text
from aggregator.config.schema import _check_url
from aggregator.errors import ConfigError, Problem
from aggregator.model import Site, Source
from aggregator.normalise.urls import canonical
from aggregator.publish.opml import OpmlFeed

MAX_ID = 48  # the schema allows 64; leave room for a "-12" suffix
MAX_TITLE = 200
# Host labels that say nothing about a site: dropped when an id is made from a host.
_GENERIC_LABELS = {"www", "m", "wap", "rss", "feed", "feeds", "rsshub"}
_SUFFIX_LABELS = {"com", "cn", "net", "org", "gov", "edu", "info", "io", "cc", "tv", "co", "top"}
_GENERIC_PATH = {"rss", "feed", "feeds", "atom", "xml", "index", "rss2", "default", "www"}
_WORD = re.compile(r"[a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class NewSource:
    id: str
    url: str
    title: str | None
    folder: tuple[str, ...] = ()  # where it sat in the reader's OPML, for the report


@dataclass(frozen=True, slots=True)
class Skipped:
    feed: OpmlFeed
    reason: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    text: str  # the new feeds.yaml (the old text when nothing is added)
    added: tuple[NewSource, ...]
    skipped: tuple[Skipped, ...]


def plan_import(
    text: str, path: str, region_id: str, feeds: Sequence[OpmlFeed], note: str | None = None
) -> ImportPlan:
    """feeds.yaml text with the OPML's feeds added as sources of `region_id`.

    Feeds whose URL is already configured (compared in canonical form) or repeated in
    the OPML are skipped, as are URLs the config would refuse. Raises ConfigError when
    the file is invalid to begin with, the region is unknown, or the edit would not
    load back as planned; nothing is returned to write in those cases.
    """
    old = load_text(text, path).site
    if region_id not in old.regions:
        known = ", ".join(old.regions) or "none"
        raise ConfigError([Problem(path, 1, f"no region '{region_id}' (regions: {known})")])
    configured = {canonical(s.url): s.id for s in old.sources.values()}
    old_ids = {*old.regions, *old.sources, *(c.id for c in old.channels)}
    taken = set(old_ids)
    added: list[NewSource] = []
    skipped: list[Skipped] = []
    for feed in feeds:
        url = feed.xml_url.strip()
        key = canonical(url) if _valid_url(url) else None
        if key is None:
            skipped.append(Skipped(feed, "not an absolute http(s) URL the config accepts"))
        elif key in configured:
            where = "repeats" if configured[key] in taken - old_ids else "already configured as"
            skipped.append(Skipped(feed, f"{where} '{configured[key]}'"))
        else:
            source_id = unique_id(feed, taken)
            taken.add(source_id)
            configured[key] = source_id
            added.append(NewSource(source_id, url, clean_title(feed.title), feed.category))
    if not added:
        return ImportPlan(text, (), tuple(skipped))
    new_text = add_sources(text, region_id, added, note)
    _check(old, new_text, path, region_id, added)
    return ImportPlan(new_text, tuple(added), tuple(skipped))


# ---------------------------------------------------------------- ids and values


def unique_id(feed: OpmlFeed, taken: set[str]) -> str:
    """An id from the title when it is Latin text, else from the host; numbered if taken."""
    base = _slug(feed)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _slug(feed: OpmlFeed) -> str:
    title = (feed.title or "").lower()
    letters = [c for c in title if not c.isspace()]
    ascii_share = sum(c.isascii() for c in letters) / len(letters) if letters else 0
    words = _WORD.findall(title) if ascii_share >= 0.8 else []
    if not words:
        words = _host_words(feed.xml_url)
    slug = "-".join(words)[:MAX_ID].strip("-")
    return slug if slug and ID_PATTERN.fullmatch(slug) else "feed"


def _host_words(url: str) -> list[str]:
    """`http://www.feixian.gov.cn/rss/zw.xml` → [feixian, zw]: the site, then the feed."""
    parts = urlsplit(url)
    labels = [label for label in (parts.hostname or "").lower().split(".") if label]
    while len(labels) > 1 and labels[-1] in _SUFFIX_LABELS:
        labels.pop()
    kept = [label for label in labels if label not in _GENERIC_LABELS] or labels
    words = [w for label in kept for w in _WORD.findall(label)]
    for segment in reversed(parts.path.lower().split("/")):
        stem = [w for w in _WORD.findall(segment.rsplit(".", 1)[0]) if w not in _GENERIC_PATH]
        if stem:
            return words + stem[:2]
    return words


def clean_title(title: str | None) -> str | None:
    if not title:
        return None
    text = " ".join(_CONTROL.sub(" ", title).split())[:MAX_TITLE]
    return text or None


def _valid_url(url: str) -> bool:
    """Whether the config would accept this as a source URL (its own rule, asked)."""
    try:
        _check_url(url)
    except (PydanticCustomError, ValueError):
        return False
    return True


def _scalar(value: str) -> str:
    """A YAML scalar that reads back (with the config's YAML 1.1 loader) as exactly `value`."""
    with contextlib.suppress(yaml.YAMLError):
        if value == value.strip() and yaml.safe_load(f"k: {value}") == {"k": value}:
            return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


# ---------------------------------------------------------------- the text edit


def add_sources(
    text: str, region_id: str, sources: Sequence[NewSource], note: str | None = None
) -> str:
    """`text` with `sources` appended to the region's `sources:` list, as inserted lines."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split("\n")  # only LF ends a line here, as for the YAML reader
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    try:
        doc = YAML(typ="rt").load(text)
    except YAMLError as exc:  # the config loader accepted it, so this is unexpected
        raise ConfigError([Problem("feeds.yaml", 1, f"cannot edit this file: {exc}")]) from None
    region = _find_region(doc.get("regions"), region_id)
    if region is None:
        raise ConfigError([Problem("feeds.yaml", 1, f"no region '{region_id}'")])
    offset = _dash_offset(doc, lines)
    existing = region.get("sources")
    if isinstance(existing, CommentedSeq) and len(existing) and not _is_flow(existing):
        dash = existing.lc.col
        at = _block_end(lines, existing[-1].lc.line, dash)
        new = _entries(sources, dash, note, newline)
    elif "sources" in region:  # `sources:` with nothing, or `sources: []`
        key_line, key_col = region.lc.key("sources")
        lines[key_line] = _empty_list_key(lines[key_line], key_col, newline)
        at = key_line + 1
        new = _entries(sources, key_col + offset, note, newline)
    else:
        key_col = region.lc.col
        at = _before_key(lines, region, "regions") or _block_end(lines, region.lc.line, key_col - 1)
        new = [" " * key_col + "sources:" + newline]
        new += _entries(sources, key_col + offset, note, newline)
    return "".join(lines[:at] + new + lines[at:])


def _entries(sources: Iterable[NewSource], dash: int, note: str | None, newline: str) -> list[str]:
    pad, inner = " " * dash, " " * (dash + 2)
    out = [f"{pad}# {_CONTROL.sub(' ', note)}{newline}"] if note else []
    for s in sources:
        out.append(f"{pad}- id: {_scalar(s.id)}{newline}")
        if s.title:
            out.append(f"{inner}title: {_scalar(s.title)}{newline}")
        out.append(f"{inner}url: {_scalar(s.url)}{newline}")
    return out


def _find_region(regions: Any, region_id: str) -> CommentedMap | None:
    for region in regions or ():
        if not isinstance(region, CommentedMap):
            continue
        if region.get("id") == region_id:
            return region
        found = _find_region(region.get("regions"), region_id)
        if found is not None:
            return found
    return None


def _dash_offset(doc: CommentedMap, lines: list[str]) -> int:
    """How far this file indents a list's dash past its key (0 or 2, as `regions:` shows)."""
    regions = doc.get("regions")
    if isinstance(regions, CommentedSeq) and len(regions) and not _is_flow(regions):
        return max(int(regions.lc.col) - int(doc.lc.key("regions")[1]), 0)
    return 2


def _is_flow(node: Any) -> bool:
    return bool(getattr(node, "fa", None) and node.fa.flow_style())


def _block_end(lines: list[str], start: int, dash: int) -> int:
    """The line after the last content line of the block that starts at `start`.

    The block goes on while lines are indented deeper than `dash`; comments and blank
    lines after its last content line belong to what follows, so new lines go above them.
    """
    last = start
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(lines[i]) - len(lines[i].lstrip(" ")) <= dash:
            break
        last = i
    return last + 1


def _before_key(lines: list[str], mapping: CommentedMap, key: str) -> int | None:
    """The line where `key` starts, above the comment lines that introduce it."""
    if key not in mapping:
        return None
    at = int(mapping.lc.key(key)[0])
    while at > 0 and lines[at - 1].strip().startswith("#"):
        at -= 1
    return at


def _empty_list_key(line: str, col: int, newline: str) -> str:
    """`sources: []  # note` → `sources:  # note`, so block entries can follow."""
    body = line.rstrip("\r\n")
    match = re.match(r"^(\s*sources\s*:)\s*(?:\[\s*\])?\s*(#.*)?$", body)
    if match is None:
        raise ConfigError([Problem("feeds.yaml", 1, f"cannot add to this line: {body.strip()}")])
    comment = f"  {match[2]}" if match[2] else ""
    return f"{match[1]}{comment}{newline}"


# ---------------------------------------------------------------- the check


def _check(old: Site, text: str, path: str, region_id: str, added: Sequence[NewSource]) -> None:
    """The edited file loads, has the new sources as planned and everything else unchanged."""
    new = load_text(text, path).site
    problems: list[str] = []
    for s in added:
        got = new.sources.get(s.id)
        if got is None or got.url != s.url or got.title != s.title or got.region != region_id:
            problems.append(f"source '{s.id}' did not read back as written")
    ids = {s.id for s in added}
    kept = {k: _unplaced(v) for k, v in new.sources.items() if k not in ids}
    if kept != {k: _unplaced(v) for k, v in old.sources.items()}:
        problems.append("existing sources would change")
    before, after = old.regions[region_id], new.regions[region_id]
    if replace(after, sources=tuple(s for s in after.sources if s not in ids)) != before:
        problems.append(f"region '{region_id}' would change")
    if {k: v for k, v in new.regions.items() if k != region_id} != {
        k: v for k, v in old.regions.items() if k != region_id
    }:
        problems.append("other regions would change")
    if (new.channels, new.defaults, new.title, new.base_url) != (
        old.channels,
        old.defaults,
        old.title,
        old.base_url,
    ):
        problems.append("site settings would change")
    if problems:
        raise ConfigError([Problem(path, 1, f"import refused: {p}") for p in problems])


def _unplaced(source: Source) -> Source:
    return replace(source, line=0)


# ---------------------------------------------------------------- writing


def write_atomically(path: str | os.PathLike[str], text: str, expected: LoadedConfig) -> None:
    """Replace the file with `text` in one step, if it still is the file `expected` read.

    The new bytes go to a temporary file beside it (same mode), are flushed to disk and
    renamed over the original, so a reader (the server's reload) never sees half a file.
    """
    target = Path(path)
    current = target.read_bytes()
    if hashlib.sha256(current).hexdigest() != expected.sha256:
        raise ConfigError(
            [Problem(os.fspath(path), 1, "the file changed while importing; run the import again")]
        )
    data = text.encode("utf-8")
    if current.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    mode = target.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

"""feeds.yaml text → Site, with every problem found in one pass, each on its line.

PURE: text in, Site or ConfigError out; no I/O. (Time zone names are checked against
the zoneinfo database, which is data shipped with Python and the tzdata package.)

How: PyYAML composes the text into nodes, which carry their line; `_Reader` turns them
into plain data and records the line of every mapping key and sequence item by its path,
e.g. ("regions", 0, "sources", 2, "url"). Pydantic models check shape and types, and
each error's `loc` is mapped to the nearest recorded line. What pydantic cannot see
(ids unique across the whole file, channel references, `type: html` with its `html:`
block) is checked on the plain data, so a type error in one place does not hide a
duplicate id in another. Only a file with no problem at all becomes a Site.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from selectolax.lexbor import LexborHTMLParser

from aggregator.config.units import parse_duration, parse_size
from aggregator.errors import ConfigError, Problem
from aggregator.model import (
    CHANNEL_FIELDS,
    Channel,
    Dedupe,
    Defaults,
    HtmlRules,
    Region,
    Site,
    Source,
)

Loc = tuple[str | int, ...]
_T = TypeVar("_T")

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""Ids name URLs (/feeds/region/{id}.rss), so they keep to characters that need no escaping."""

_MAX_ID = 64
_MAX_NODES = 200_000  # aliases can expand a tiny file into billions of values
_ATTR_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*")


# ---------------------------------------------------------------- field types


def _error(message: str) -> PydanticCustomError:
    """A pydantic error whose message is shown to the admin exactly as written."""
    return PydanticCustomError("config", message)


def _as_text(value: object) -> object:
    """Numbers become text (a title of `2024` is still a title); text loses outer spaces."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _check_id(value: str) -> str:
    if len(value) > _MAX_ID or not ID_PATTERN.fullmatch(value):
        raise _error(
            f"bad id '{value}': use lowercase letters, digits, '-' and '_' "
            f"(at most {_MAX_ID}; ids appear in feed URLs)"
        )
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise _error(f"bad URL '{value}': use an absolute http:// or https:// address")
    return value


def _check_base_url(value: str) -> str:
    """The site's own address: links in every feed start with it, so no query or fragment."""
    _check_url(value)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise _error(f"bad URL '{value}': the site address takes no '?' query or '#' part")
    return value.rstrip("/")


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _error(
            f"unknown time zone '{value}': use a tz database name, e.g. Asia/Shanghai"
        ) from None
    return value


def _parsed_by(parse: Callable[[Any], _T]) -> Callable[[object], _T]:
    """Run a units parser, passing its message to the admin unchanged."""

    def convert(value: object) -> _T:
        try:
            return parse(value)
        except ValueError as exc:
            raise _error(str(exc)) from None

    return convert


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise _error("must be more than 0")
    return value


def _none_as_empty(value: object) -> object:
    """`sources:` with nothing under it is an empty list, not an error."""
    return [] if value is None else value


def split_selector(value: str) -> tuple[str, str | None]:
    """Split `selector@attr` into the CSS selector and the attribute (None: the text).

    The `@` counts only when what follows is an attribute name, so a selector such as
    `a[href*="@"]` stays whole.
    """
    css, at, attr = value.rpartition("@")
    if at and css.strip() and _ATTR_NAME.fullmatch(attr.strip()):
        return css.strip(), attr.strip()
    return value.strip(), None


@lru_cache(maxsize=1024)
def css_is_valid(css: str) -> bool:
    """Whether selectolax (lexbor), which the html parser uses, accepts the selector."""
    try:
        LexborHTMLParser("<p></p>").css(css)
    except Exception:  # selectolax signals a bad selector with several exception types
        return False
    return True


def _selector(default_attr: str | None, *, attr_allowed: bool = True) -> Callable[[str], str]:
    """Check `selector@attr`; with a default attribute, always write it out explicitly."""

    def check(value: str) -> str:
        css, attr = split_selector(value)
        if attr is not None and not attr_allowed:
            raise _error(f"bad selector '{value}': this one selects elements, so no @attribute")
        if not css_is_valid(css):
            raise _error(f"bad CSS selector '{css}'")
        attr = attr or default_attr
        return f"{css}@{attr}" if attr else css

    return check


_TextBase = Annotated[str, BeforeValidator(_as_text), Strict()]
Text = Annotated[_TextBase, StringConstraints(min_length=1)]
Id = Annotated[_TextBase, AfterValidator(_check_id)]
Url = Annotated[_TextBase, AfterValidator(_check_url)]
BaseUrl = Annotated[_TextBase, AfterValidator(_check_base_url)]
Zone = Annotated[_TextBase, AfterValidator(_check_zone)]
Duration = Annotated[timedelta, BeforeValidator(_parsed_by(parse_duration)), Strict()]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
Size = Annotated[int, BeforeValidator(_parsed_by(parse_size)), Strict(), Field(ge=1)]
Count = Annotated[int, Strict(), Field(ge=1)]
Flag = Annotated[bool, Strict()]
TextList = Annotated[list[Text], BeforeValidator(_none_as_empty), Strict()]


Selector = Annotated[_TextBase, AfterValidator(_selector(None))]
ElementSelector = Annotated[_TextBase, AfterValidator(_selector(None, attr_allowed=False))]
LinkSelector = Annotated[_TextBase, AfterValidator(_selector("href"))]
ImageSelector = Annotated[_TextBase, AfterValidator(_selector("src"))]


# ---------------------------------------------------------------- the file's shape


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SiteIn(_In):
    title: Text
    base_url: BaseUrl
    timezone: Zone = "Asia/Shanghai"
    hub: Url | None = None
    description: Text | None = None


class _DefaultsIn(_In):
    interval: PositiveDuration | None = None
    timeout: PositiveDuration | None = None
    keep_days: Count | None = None
    allow_private_networks: Flag | None = None
    per_host: Count | None = None
    host_gap: Duration | None = None
    max_bytes: Size | None = None


def _check_fields(value: list[str]) -> list[str]:
    for name in value:
        if name not in CHANNEL_FIELDS:
            raise _error(f"unknown field '{name}': use {', '.join(CHANNEL_FIELDS)}")
    if not value:
        raise _error(f"name at least one of {', '.join(CHANNEL_FIELDS)}")
    return value


def _as_share(value: object) -> float:
    """A number in (0, 1]: written as a number, not as text or true/false."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(f"expected a number between 0 and 1, e.g. 0.8, not {_show(value)}")
    if not 0 < value <= 1:
        raise _error(f"must be more than 0 and at most 1, not {value}")
    return float(value)


Share = Annotated[float, BeforeValidator(_as_share)]


class _ChannelIn(_In):
    id: Id
    title: Text
    keywords: TextList = []
    words: TextList = []
    exclude: TextList = []
    categories: TextList = []
    match: Annotated[TextList, AfterValidator(_check_fields)] = ["title", "categories"]


class _DedupeIn(_In):
    window: PositiveDuration | None = None
    threshold: Share | None = None


class _HtmlIn(_In):
    item: ElementSelector
    title: Selector
    link: LinkSelector
    date: Selector | None = None
    summary: Selector | None = None
    image: ImageSelector | None = None
    author: Selector | None = None


class _SourceIn(_DefaultsIn):
    id: Id
    url: Url
    title: Text | None = None
    name: Text | None = None  # what OPML exports call the title
    type: Literal["feed", "html"] = "feed"
    channels: TextList = []
    fulltext: Flag = False
    fulltext_selector: ElementSelector | None = None
    html: _HtmlIn | None = None


class _RegionIn(_In):
    id: Id
    title: Text
    sources: Annotated[list[_SourceIn], BeforeValidator(_none_as_empty)] = []
    regions: Annotated[list[_RegionIn], BeforeValidator(_none_as_empty)] = []


class _FileIn(_In):
    site: _SiteIn
    defaults: _DefaultsIn | None = None
    dedupe: _DedupeIn | None = None
    channels: Annotated[list[_ChannelIn], BeforeValidator(_none_as_empty)] = []
    regions: Annotated[list[_RegionIn], BeforeValidator(_none_as_empty), Field(min_length=1)]


# What the parent key of a mapping says it is: for "did you mean" on an unknown key.
_KEYS: dict[str | None, tuple[str, ...]] = {
    None: tuple(_FileIn.model_fields),
    "site": tuple(_SiteIn.model_fields),
    "defaults": tuple(_DefaultsIn.model_fields),
    "dedupe": tuple(_DedupeIn.model_fields),
    "channels": tuple(_ChannelIn.model_fields),
    "regions": tuple(_RegionIn.model_fields),
    "sources": tuple(_SourceIn.model_fields),
    "html": tuple(_HtmlIn.model_fields),
}

_TYPE_WORDS = {
    "string_type": "text",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "list_type": "a list, e.g. [a, b] or one '- ' line per item",
    "model_type": "a mapping of 'key: value' lines",
    "dict_type": "a mapping of 'key: value' lines",
    "timedelta_type": "a duration, e.g. 15m",
}


# ---------------------------------------------------------------- YAML → plain data


class _TooBig(Exception):
    """The composed document expands to more values than any feeds.yaml needs."""


@dataclass(slots=True)
class _Found:
    line: int
    message: str


class _Reader:
    """Turns composed YAML nodes into dicts, lists and scalars, noting every line."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.found: list[_Found] = []
        self._active: set[int] = set()
        self._count = 0

    def read(self, node: yaml.Node, path: Loc) -> Any:
        if id(node) in self._active:
            self.found.append(_Found(_line(node), _say(path, "an alias refers to itself")))
            return None
        self._count += 1
        if self._count > _MAX_NODES:
            raise _TooBig
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path)
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return None  # PyYAML has no other node kinds
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: Loc) -> Any:
        """The scalar as YAML types it, except that no key here wants a date: those stay text."""
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.found.append(_Found(_line(node), _say(path, f"cannot read value: {reason}")))
            return node.value

    def _sequence(self, node: yaml.SequenceNode, path: Loc) -> list[Any]:
        items: list[Any] = []
        for index, item in enumerate(node.value):
            self.lines[(*path, index)] = _line(item)
            items.append(self.read(item, (*path, index)))
        return items

    def _mapping(self, node: yaml.MappingNode, path: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # `<<: *anchor` merges first, so that the mapping's own keys (and lines) win.
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._merge(value_node, path, result)
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            line = _line(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.found.append(_Found(line, _say(path, "a key must be a plain word")))
                continue
            key = str(key_node.value)
            if key in first:
                self.found.append(
                    _Found(
                        line,
                        f"{_fmt((*path, key))}: duplicate key '{key}' (first on line {first[key]})",
                    )
                )
                continue
            first[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.read(value_node, (*path, key))
        return result

    def _merge(self, node: yaml.Node, path: Loc, into: dict[str, Any]) -> None:
        parts = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for part in parts:
            value = self.read(part, path) if isinstance(part, yaml.MappingNode) else None
            if not isinstance(value, dict):
                self.found.append(
                    _Found(_line(part), _say(path, "'<<' merges a mapping (an &anchor of one)"))
                )
                continue
            for key, item in value.items():
                into.setdefault(key, item)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _fmt(loc: Loc) -> str:
    """("regions", 0, "sources", 2, "url") → regions[0].sources[2].url"""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _say(loc: Loc, message: str) -> str:
    where = _fmt(loc)
    return f"{where}: {message}" if where else message


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


# ---------------------------------------------------------------- the checks


class _Check:
    """One run over one file: collects problems, and builds the Site when there are none."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.lines: dict[Loc, int] = {}
        self.found: list[_Found] = []

    def run(self) -> Site:
        data = self._read()
        model: _FileIn | None = None
        if data is not None:
            try:
                model = _FileIn.model_validate(data)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    self._pydantic(error)
            self._cross_check(data)
        if self.found or model is None:
            raise ConfigError(self._problems())
        return self._build(model)

    # -- reading

    def _read(self) -> dict[str, Any] | None:
        loader: yaml.SafeLoader | None = None
        try:
            loader = yaml.SafeLoader(self.text)
            node = loader.get_single_node()
            if node is None:
                self._add(1, "the file is empty: it needs at least site: and regions:")
                return None
            reader = _Reader(loader)
            reader.lines[()] = _line(node)
            try:
                data = reader.read(node, ())
            except _TooBig:
                self._add(_line(node), f"the file expands to more than {_MAX_NODES} values")
                return None
            self.lines = reader.lines
            self.found.extend(reader.found)
        except yaml.MarkedYAMLError as exc:
            self._yaml_error(exc)
            return None
        except yaml.reader.ReaderError as exc:
            line = self.text.count("\n", 0, exc.position) + 1
            self._add(line, f"unusable character U+{exc.character:04X} ({exc.reason}): remove it")
            return None
        except yaml.YAMLError as exc:  # pragma: no cover - PyYAML errors all carry a mark
            self._add(1, f"YAML syntax error: {exc}")
            return None
        finally:
            if loader is not None:
                loader.dispose()
        if isinstance(data, dict):
            # `x-…` keys hold &anchors for `<<:` merges, as in docker compose files.
            return {k: v for k, v in data.items() if not k.startswith("x-")}
        self._add(
            _line(node),
            f"the top level must be a mapping with site:, regions: and so on, not {_show(data)}",
        )
        return None

    def _yaml_error(self, exc: yaml.MarkedYAMLError) -> None:
        mark = exc.problem_mark or exc.context_mark
        last = max(1, self.text.count("\n") + (0 if self.text.endswith("\n") else 1))
        line = min(int(mark.line) + 1, last) if mark is not None else 1
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.problem and exc.context:
            context_line = int(exc.context_mark.line) + 1 if exc.context_mark else line
            where = f" on line {context_line}" if context_line != line else ""
            message += f" ({exc.context}{where})"
        self._add(line, message)

    # -- pydantic's findings, in the admin's words

    def _pydantic(self, error: ErrorDetails) -> None:
        loc: Loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input")
        if kind == "missing":
            self._add(self._line(loc[:-1]), _say(loc[:-1], f"missing required key '{loc[-1]}'"))
        elif kind == "extra_forbidden":
            key = str(loc[-1])
            self._add(self._line(loc), _say(loc[:-1], f"unknown key '{key}'{self._hint(loc)}"))
        elif kind == "config":
            self._add(self._line(loc), _say(loc, error["msg"]))
        elif kind in _TYPE_WORDS:
            self._add(
                self._line(loc), _say(loc, f"expected {_TYPE_WORDS[kind]}, not {_show(value)}")
            )
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            self._add(self._line(loc), _say(loc, f"must be {expected}, not {_show(value)}"))
        elif kind in ("greater_than_equal", "greater_than"):
            ctx = error.get("ctx", {})
            least = ctx.get("ge", ctx.get("gt"))
            words = "at least" if kind == "greater_than_equal" else "more than"
            self._add(self._line(loc), _say(loc, f"must be {words} {least}, not {_show(value)}"))
        elif kind in ("string_too_short", "too_short") and isinstance(value, str):
            self._add(self._line(loc), _say(loc, "must not be empty"))
        elif kind == "too_short" and loc == ("regions",):
            self._add(self._line(loc), _say(loc, "needs at least one region"))
        else:
            self._add(self._line(loc), _say(loc, error["msg"]))

    def _hint(self, loc: Loc) -> str:
        parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), None)
        close = difflib.get_close_matches(str(loc[-1]), _KEYS.get(parent, ()), n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""

    # -- what needs the whole file

    def _cross_check(self, data: dict[str, Any]) -> None:
        claims: list[tuple[int, str, Loc]] = []  # (line, id, where)
        channel_ids: list[str] = []
        for index, channel in _items(data.get("channels")):
            loc: Loc = ("channels", index)
            cid = self._claim(channel, loc, claims)
            if cid is not None:
                channel_ids.append(cid)
        sources: list[tuple[Loc, dict[str, Any]]] = []
        self._walk_regions(data.get("regions"), ("regions",), claims, sources)
        for loc, source in sources:
            self._check_source(loc, source, channel_ids)
        seen: dict[str, int] = {}
        for line, ident, loc in sorted(claims, key=lambda c: c[0]):
            if ident in seen:
                self._add(
                    line, _say(loc, f"duplicate id '{ident}' (first used on line {seen[ident]})")
                )
            else:
                seen[ident] = line

    def _walk_regions(
        self,
        regions: object,
        loc: Loc,
        claims: list[tuple[int, str, Loc]],
        sources: list[tuple[Loc, dict[str, Any]]],
    ) -> None:
        for index, region in _items(regions):
            here = (*loc, index)
            self._claim(region, here, claims)
            for sindex, source in _items(region.get("sources")):
                self._claim(source, (*here, "sources", sindex), claims)
                sources.append(((*here, "sources", sindex), source))
            self._walk_regions(region.get("regions"), (*here, "regions"), claims, sources)

    def _claim(
        self, item: dict[str, Any], loc: Loc, claims: list[tuple[int, str, Loc]]
    ) -> str | None:
        """Note where an id is given, for the uniqueness check across the whole file."""
        ident = _as_text(item.get("id"))
        if not isinstance(ident, str) or not ident:
            return None
        claims.append((self._line((*loc, "id")), ident, (*loc, "id")))
        return ident

    def _check_source(self, loc: Loc, source: dict[str, Any], channel_ids: list[str]) -> None:
        for index, channel in enumerate(_list(source.get("channels"))):
            name = _as_text(channel)
            if isinstance(name, str) and name and name not in channel_ids:
                known = ", ".join(channel_ids) if channel_ids else "none are defined"
                self._add(
                    self._line((*loc, "channels", index)),
                    _say((*loc, "channels"), f"unknown channel '{name}' (known: {known})"),
                )
        kind = source.get("type", "feed")
        if kind == "html" and source.get("html") is None:
            self._add(
                self._line((*loc, "type")),
                _say(loc, "type: html needs an html: block with item, title and link selectors"),
            )
        if kind in ("feed", None) and source.get("html") is not None:
            self._add(
                self._line((*loc, "html")),
                _say((*loc, "html"), "only a type: html source uses html: rules (add type: html)"),
            )
        if source.get("title") is not None and source.get("name") is not None:
            self._add(
                self._line((*loc, "name")),
                _say((*loc, "name"), "name is another word for title: give one of them"),
            )

    # -- problems

    def _line(self, loc: Loc) -> int:
        for end in range(len(loc), -1, -1):
            line = self.lines.get(loc[:end])
            if line is not None:
                return line
        return 1

    def _add(self, line: int, message: str) -> None:
        self.found.append(_Found(line, message))

    def _problems(self) -> list[Problem]:
        unique = dict.fromkeys((f.line, f.message) for f in self.found)
        return [
            Problem(self.path, line, message)
            for line, message in sorted(unique, key=lambda lm: lm[0])
        ]

    # -- the Site

    def _build(self, model: _FileIn) -> Site:
        given = model.defaults.model_dump(exclude_none=True) if model.defaults else {}
        defaults = Defaults(**given)
        regions: dict[str, Region] = {}
        sources: list[Source] = []

        def add(region: _RegionIn, parent: str | None, loc: Loc) -> None:
            regions[region.id] = Region(
                id=region.id,
                title=region.title,
                parent=parent,
                children=tuple(r.id for r in region.regions),
                sources=tuple(s.id for s in region.sources),
            )
            for index, source in enumerate(region.sources):
                line = self._line((*loc, "sources", index))
                sources.append(_source(source, region.id, line, defaults))
            for index, child in enumerate(region.regions):
                add(child, region.id, (*loc, "regions", index))

        for index, root in enumerate(model.regions):
            add(root, None, ("regions", index))
        sources.sort(key=lambda s: s.line)
        return Site(
            title=model.site.title,
            base_url=model.site.base_url,
            timezone=model.site.timezone,
            hub=model.site.hub,
            description=model.site.description,
            defaults=defaults,
            dedupe=Dedupe(**(model.dedupe.model_dump(exclude_none=True) if model.dedupe else {})),
            channels=tuple(
                Channel(
                    id=c.id,
                    title=c.title,
                    keywords=tuple(c.keywords),
                    exclude=tuple(c.exclude),
                    categories=tuple(c.categories),
                    words=tuple(c.words),
                    match=tuple(dict.fromkeys(c.match)),
                )
                for c in model.channels
            ),
            regions=regions,
            sources={s.id: s for s in sources},
        )


def _source(source: _SourceIn, region: str, line: int, defaults: Defaults) -> Source:
    """A Source with every key it leaves out taken from the defaults."""

    def pick(name: str) -> Any:
        own = getattr(source, name)
        return getattr(defaults, name) if own is None else own

    return Source(
        id=source.id,
        url=source.url,
        region=region,
        title=source.title or source.name,
        type=source.type,
        channels=tuple(dict.fromkeys(source.channels)),
        interval=pick("interval"),
        timeout=pick("timeout"),
        fulltext=source.fulltext,
        fulltext_selector=source.fulltext_selector,
        html=HtmlRules(**source.html.model_dump()) if source.html else None,
        allow_private_networks=pick("allow_private_networks"),
        per_host=pick("per_host"),
        host_gap=pick("host_gap"),
        max_bytes=pick("max_bytes"),
        keep_days=pick("keep_days"),
        line=line,
    )


def _items(value: object) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mappings in a list that may be anything (the plain data is unchecked)."""
    for index, item in enumerate(_list(value)):
        if isinstance(item, dict):
            yield index, item


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_site(text: str, path: str) -> Site:
    """Validate feeds.yaml text; raise ConfigError listing every problem, sorted by line."""
    return _Check(text, path).run()

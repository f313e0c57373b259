"""Options of an embedded widget (`/embed/...?limit=5&summary=1&theme=dark&target=_top`). PURE.

A widget is cached per option set, so every option takes a few fixed values and
anything else is BadParameter (a 400 naming what is allowed), never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from aggregator.errors import BadParameter
from aggregator.publish.query import _single

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
THEMES = ("light", "dark")
TARGETS = ("_blank", "_top", "_self")
_LIMIT = re.compile(r"[0-9]{1,3}")

Theme = Literal["light", "dark"]
Target = Literal["_blank", "_top", "_self"]


@dataclass(frozen=True, slots=True)
class EmbedOptions:
    limit: int = DEFAULT_LIMIT
    summary: bool = False
    theme: Theme = "light"
    target: Target = "_blank"  # the window links open in; _blank adds rel=noopener

    @property
    def key(self) -> str:
        return f"{self.limit}|{int(self.summary)}|{self.theme}|{self.target}"


def parse_embed_options(params: Mapping[str, str]) -> EmbedOptions:
    """Validate a widget's query; unknown parameters are ignored (hosts add their own)."""
    limit = _single(params, "limit")
    summary = _single(params, "summary")
    theme = _single(params, "theme")
    target = _single(params, "target")
    return EmbedOptions(
        limit=DEFAULT_LIMIT if limit is None else _limit(limit),
        summary=_choice("summary", summary, ("0", "1"), "0") == "1",
        theme=cast(Theme, _choice("theme", theme, THEMES, "light")),
        target=cast(Target, _choice("target", target, TARGETS, "_blank")),
    )


def _limit(text: str) -> int:
    if not _LIMIT.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def _choice(name: str, value: str | None, allowed: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise BadParameter(f"{name}: {shown!r} is not one of {', '.join(allowed)}")
    return value

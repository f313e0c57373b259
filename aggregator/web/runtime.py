"""What a running server holds: the config in force, the store, the render cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from aggregator.config import LoadedConfig
from aggregator.model import Site
from aggregator.store import Store
from aggregator.web.cache import RenderCache


@dataclass
class Runtime:
    config: LoadedConfig
    store: Store
    loaded_at: datetime
    cache: RenderCache = field(default_factory=RenderCache)
    change_seq: int = 0
    rejected: list[str] = field(default_factory=list)  # problems of the last refused edit
    rejected_at: datetime | None = None
    polling: bool = False  # a poller runs in this process

    @property
    def site(self) -> Site:
        return self.config.site

    def url(self, path: str) -> str:
        """An absolute URL on the public address (never from request headers)."""
        return self.site.base_url.rstrip("/") + path


RUNTIME = web.AppKey("runtime", Runtime)

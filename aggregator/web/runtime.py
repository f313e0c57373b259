"""What a running server holds: the config in force, the store, the render cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from aggregator.config import LoadedConfig
from aggregator.model import Site
from aggregator.store import Store
from aggregator.web.cache import RenderCache

if TYPE_CHECKING:
    from aggregator.reload import Reloader


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
    admin_token: str | None = None  # AGGREGATOR_ADMIN_TOKEN; None: admin actions are off
    reloader: Reloader | None = None  # applies an edited feeds.yaml (see aggregator.reload)

    @property
    def site(self) -> Site:
        return self.config.site

    def url(self, path: str) -> str:
        """An absolute URL on the public address (never from request headers)."""
        return self.site.base_url.rstrip("/") + path


RUNTIME = web.AppKey("runtime", Runtime)

"""What a running server holds: the config in force, the store, the render cache."""

from __future__ import annotations

import copy
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
    from aggregator.web.feeds import Target


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
    feed_targets: dict[str, Target] = field(default_factory=dict)  # see web.feeds.target_of

    @property
    def site(self) -> Site:
        return self.config.site

    def url(self, path: str) -> str:
        return site_url(self.site, path)


def site_url(site: Site, path: str) -> str:
    """An absolute URL on the public address (never from request headers)."""
    return site.base_url.rstrip("/") + path


RUNTIME = web.AppKey("runtime", Runtime)
# The config in force when a request arrived, pinned by web.edge: a handler that reads it
# here sees one config from start to end, even if a reload swaps it while the handler waits.
CONFIG = web.RequestKey("config", LoadedConfig)


def config_of(request: web.Request) -> LoadedConfig:
    found = request.get(CONFIG)
    return found if found is not None else request.app[RUNTIME].config


def site_of(request: web.Request) -> Site:
    return config_of(request).site


def runtime_of(request: web.Request) -> Runtime:
    """The server's Runtime as this request sees it: with the config pinned on arrival, for
    handlers that read it after an await (rendering, paging). It shares the store and
    the cache; handlers only read it."""
    view = copy.copy(request.app[RUNTIME])
    view.config = config_of(request)
    return view

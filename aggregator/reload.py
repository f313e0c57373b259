"""Applying an edited feeds.yaml to a running process, without a restart.

Whatever asks (the file watcher, SIGHUP, `POST /api/reload`), a reload reads the file
once it is settled, validates it, confirms the bytes did not change meanwhile, and then
applies it in this order:

1. the store: sources' rows synced (pollers: new ones start spread out, removed ones go
   inactive and keep their articles) or just the region tree (servers);
2. the poller (`Poller.apply`): intervals, URLs and channel rules from its next claim;
3. the web server: the new config is swapped in and the render cache cleared, so every
   request after that sees it;
4. pollers re-file the stories of sources that moved region, in batches.

An invalid file changes nothing: its problems (`PATH:LINE: message`) go to the log, to
/sources and to /api/config, and the config in force stays. Reloads run one at a time,
and a file whose hash is the one in force is not applied again, so it does not matter
how many events or signals ask, nor how many processes of a deployment read the file.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from aggregator.config import ConfigError, LoadedConfig, load_bytes
from aggregator.config.diff import ConfigDiff, diff
from aggregator.config.watch import SETTLE, STABLE_TIMEOUT, StillChanging, read_settled, still_same
from aggregator.errors import Problem

if TYPE_CHECKING:
    from aggregator.poller.scheduler import Poller
    from aggregator.web.runtime import Runtime

log = logging.getLogger("aggregator.config")

Status = Literal["applied", "unchanged", "rejected", "failed"]


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    status: Status
    reason: str  # who asked: watch, SIGHUP, api, startup
    sha256: str | None  # of the file read (None when it could not be read or validated)
    in_force: str  # sha256 of the config in force afterwards
    problems: tuple[str, ...] = ()
    changes: ConfigDiff | None = None
    refiled_stories: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "sha256": self.sha256,
            "in_force": self.in_force,
            "problems": list(self.problems),
            "changes": self.changes.as_dict() if self.changes is not None else None,
            "refiled_stories": self.refiled_stories,
        }


class Reloader:
    """Reloads one process's config; `reload` is safe to call from anywhere, any time."""

    def __init__(
        self,
        runtime: Runtime,
        poller: Poller | None = None,
        *,
        settle: float = SETTLE,
        timeout: float = STABLE_TIMEOUT,
    ) -> None:
        self.runtime = runtime
        self.poller = poller
        self.settle = settle
        self.timeout = timeout
        self._lock = asyncio.Lock()

    @property
    def path(self) -> str:
        return self.runtime.config.path

    async def reload(self, reason: str) -> ReloadOutcome:
        async with self._lock:
            try:
                return await self._reload(reason)
            except Exception as exc:
                # The database is down, say: nothing was swapped, the next reload retries.
                log.exception("config: reload (%s) of %s failed", reason, self.path)
                return ReloadOutcome(
                    "failed",
                    reason,
                    None,
                    self.runtime.config.sha256,
                    (f"{type(exc).__name__}: {str(exc)[:300]}",),
                )

    async def _reload(self, reason: str) -> ReloadOutcome:
        path, rt = self.path, self.runtime
        try:
            loaded = await self._read_valid(path)
        except ConfigError as exc:
            return self._reject(reason, exc.problems)
        if loaded.sha256 == rt.config.sha256:
            if rt.rejected:
                log.info(
                    "config: %s is back to the config in force (%s)",
                    path,
                    loaded.sha256[:12],
                    extra={"event": "config", "outcome": "unchanged", "reason": reason},
                )
            rt.rejected, rt.rejected_at = [], None
            return ReloadOutcome("unchanged", reason, loaded.sha256, loaded.sha256)
        return await self._apply(loaded, reason)

    async def _read_valid(self, path: str) -> LoadedConfig:
        """Settled bytes, validated, and still the file's bytes after validation."""
        for _ in range(20):
            try:
                seen = await read_settled(path, self.settle, self.timeout)
            except StillChanging as exc:
                raise ConfigError([Problem(path, 1, f"not applied: {exc}")]) from exc
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise ConfigError([Problem(path, 1, f"cannot read file: {reason}")]) from exc
            try:
                loaded = await asyncio.to_thread(load_bytes, seen.data, path)
            except ConfigError:
                if await asyncio.to_thread(still_same, path, seen):
                    raise
                continue  # rewritten while we validated: judge the new bytes instead
            if await asyncio.to_thread(still_same, path, seen):
                return loaded
        raise ConfigError([Problem(path, 1, "not applied: the file kept changing")])

    def _reject(self, reason: str, problems: list[Problem]) -> ReloadOutcome:
        rt = self.runtime
        lines = [str(p) for p in problems]
        rt.rejected, rt.rejected_at = lines, datetime.now(UTC)
        for line in lines:
            log.warning("%s", line, extra={"event": "config_problem"})
        log.error(
            "config: %s rejected (%d problem(s)); still using %s",
            self.path,
            len(lines),
            rt.config.sha256[:12],
            extra={"event": "config", "outcome": "rejected", "reason": reason},
        )
        return ReloadOutcome("rejected", reason, None, rt.config.sha256, tuple(lines))

    async def _apply(self, loaded: LoadedConfig, reason: str) -> ReloadOutcome:
        rt, store, site = self.runtime, self.runtime.store, loaded.site
        changes = diff(rt.site, site)
        now = datetime.now(UTC)
        moved: set[str] = set()
        if self.poller is not None:
            moved.update(await store.call(store.sync_sources, site, now))
            moved.update(changes.moved)
            for sid, (old, new) in changes.interval.items():
                if new < old:
                    await store.call(store.bring_forward, sid, new, now)
            self.poller.apply(site)
        else:
            await store.call(store.configure, site)
        rt.config, rt.loaded_at = loaded, now
        rt.rejected, rt.rejected_at = [], None
        rt.cache.clear()
        log.info(
            "config: applied %s (%s; %s)",
            loaded.sha256[:12],
            loaded.summary,
            changes.summary(),
            extra={
                "event": "config",
                "outcome": "applied",
                "reason": reason,
                "sha256": loaded.sha256,
                **{k: v for k, v in changes.as_dict().items() if v},
            },
        )
        refiled = 0
        if moved:
            done = await store.call(store.refile_sources, sorted(moved), now)
            rt.cache.invalidate(done.feeds)
            refiled = done.stories
            log.info(
                "config: re-filed %d stories of %d moved source(s) into their new regions",
                done.stories,
                len(moved),
                extra={"event": "refile", "sources": sorted(moved), "feeds": len(done.feeds)},
            )
        return ReloadOutcome("applied", reason, loaded.sha256, loaded.sha256, (), changes, refiled)

"""Process settings from flags and AGGREGATOR_* variables; the environment is read here only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_CONFIG = "./feeds.yaml"
DEFAULT_DB = "sqlite:///./aggregator.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_OFF = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Settings:
    config: str = DEFAULT_CONFIG
    db: str = DEFAULT_DB
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 2  # parser processes
    concurrency: int = 16  # polls in flight
    log_level: str = "INFO"
    admin_token: str | None = None
    watch_config: bool = True  # reload feeds.yaml when it changes (SIGHUP works either way)
    lease_seconds: float | None = None  # a poller's lease on a source; None: from timeouts

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None, **flags: object) -> Settings:
        """Flags win over the environment, which wins over defaults."""
        env = os.environ if env is None else env

        def pick(flag: str, var: str, default: str) -> str:
            value = flags.get(flag)
            return str(value) if value not in (None, "") else env.get(var, default)

        return Settings(
            config=pick("config", "AGGREGATOR_CONFIG", DEFAULT_CONFIG),
            db=pick("db", "AGGREGATOR_DATABASE_URL", DEFAULT_DB),
            host=pick("host", "AGGREGATOR_HOST", DEFAULT_HOST),
            port=int(pick("port", "AGGREGATOR_PORT", str(DEFAULT_PORT))),
            workers=int(pick("workers", "AGGREGATOR_WORKERS", "2")),
            concurrency=int(pick("concurrency", "AGGREGATOR_CONCURRENCY", "16")),
            log_level=pick("log_level", "AGGREGATOR_LOG_LEVEL", "INFO").upper(),
            admin_token=env.get("AGGREGATOR_ADMIN_TOKEN") or None,
            watch_config=not flags.get("no_watch")
            and env.get("AGGREGATOR_WATCH_CONFIG", "1").strip().lower() not in _OFF,
            lease_seconds=float(env["AGGREGATOR_LEASE_SECONDS"])
            if env.get("AGGREGATOR_LEASE_SECONDS")
            else None,
        )

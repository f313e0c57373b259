"""Process settings from flags and AGGREGATOR_* variables; the environment is read here only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_CONFIG = "./feeds.yaml"
DEFAULT_DB = "sqlite:///./aggregator.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_OFF = {"0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """A flag or AGGREGATOR_* variable that cannot be used; the CLI prints it and exits 2."""


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
    access_log: bool = False  # one log line per HTTP request (off: it costs every request)

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None, **flags: object) -> Settings:
        """Flags win over the environment, which wins over defaults."""
        env = os.environ if env is None else env

        def pick(flag: str, var: str, default: str) -> str:
            value = flags.get(flag)
            return str(value) if value not in (None, "") else env.get(var, default)

        def number(
            flag: str, var: str, default: str, kind: type[Any] = int, least: float = 1
        ) -> Any:
            raw = pick(flag, var, default)
            name = f"{var} (or --{flag.replace('_', '-')})"
            try:
                value = kind(raw)
            except ValueError:
                raise SettingsError(f"{name}: not a number: {raw!r}") from None
            if value < least:
                raise SettingsError(f"{name}: must be at least {least:g}, not {raw}")
            return value

        return Settings(
            config=pick("config", "AGGREGATOR_CONFIG", DEFAULT_CONFIG),
            db=pick("db", "AGGREGATOR_DATABASE_URL", DEFAULT_DB),
            host=pick("host", "AGGREGATOR_HOST", DEFAULT_HOST),
            port=number("port", "AGGREGATOR_PORT", str(DEFAULT_PORT), least=0),
            workers=number("workers", "AGGREGATOR_WORKERS", "2", least=0),
            concurrency=number("concurrency", "AGGREGATOR_CONCURRENCY", "16"),
            log_level=pick("log_level", "AGGREGATOR_LOG_LEVEL", "INFO").upper(),
            admin_token=env.get("AGGREGATOR_ADMIN_TOKEN") or None,
            watch_config=not flags.get("no_watch")
            and env.get("AGGREGATOR_WATCH_CONFIG", "1").strip().lower() not in _OFF,
            access_log=env.get("AGGREGATOR_ACCESS_LOG", "0").strip().lower() in _ON,
            lease_seconds=number("lease_seconds", "AGGREGATOR_LEASE_SECONDS", "0", float, 0.1)
            if env.get("AGGREGATOR_LEASE_SECONDS")
            else None,
        )

"""Reading feeds.yaml while someone may be writing it, and noticing when it changes.

An editor, `cp` or a config-management tool can be caught half way through a write;
a half-written file can even be valid YAML with fewer sources. So a file is read only
once it has not been modified for `settle` seconds, and read again after validation:
only bytes seen twice, unchanged, are applied (see `Reloader`).

The watcher watches the file's directory, not the file: editors that save by writing a
new file and renaming it over the old one (vim, most IDEs, `opml import`), and
Kubernetes config maps (a `..data` symlink swapped), replace the inode a file watch
would hold. Events are filtered to the file's own name (and `..`-names), grouped by
watchfiles, and each group calls `on_change` once; `on_change` compares hashes, so a
touch or a save without changes does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("aggregator.config")

SETTLE = 0.5  # seconds without a modification before a file counts as written
STABLE_TIMEOUT = 30.0  # give up waiting for a file that never stops changing


class StillChanging(OSError):
    """The file kept changing (or kept missing) for longer than the timeout."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    data: bytes
    signature: tuple[int, int, int, int]  # device, inode, size, mtime in ns
    mtime: float


def snapshot(path: str) -> Snapshot | None:
    """The file's bytes and identity, or None when it changed while being read."""
    before = os.stat(path)
    with open(path, "rb") as file:
        data = file.read()
    after = os.stat(path)
    sig = (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns)
    if sig != (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns):
        return None
    if len(data) != after.st_size:
        return None
    return Snapshot(data, sig, after.st_mtime)


async def read_settled(
    path: str,
    settle: float = SETTLE,
    timeout: float = STABLE_TIMEOUT,
    clock: Callable[[], float] = time.time,
) -> Snapshot:
    """The file's bytes once it has been left alone for `settle` seconds.

    A file saved long ago is read at once. A fresh one is read again after the rest of
    the settle time, and counts as written when both reads agree. A missing file (the
    moment between an editor's rename and its write) is waited for like a changing one.
    Raises StillChanging after `timeout`, OSError for other read failures.
    """
    deadline = time.monotonic() + timeout
    previous: Snapshot | None = None
    while True:
        wait = settle
        try:
            current = await asyncio.to_thread(snapshot, path)
        except FileNotFoundError:
            current = None
        if current is not None:
            age = clock() - current.mtime
            if age >= settle or current == previous:
                return current
            previous = current
            wait = settle - age if age >= 0 else settle  # a future mtime: just wait it out
        if time.monotonic() + wait > deadline:
            if current is None and not os.path.exists(path):
                raise FileNotFoundError(2, "No such file or directory", path)
            raise StillChanging(f"the file kept changing for {timeout:.0f}s")
        await asyncio.sleep(wait + 0.01)


def still_same(path: str, seen: Snapshot) -> bool:
    """Whether the file still holds exactly what was read (same bytes, same identity)."""
    try:
        now = snapshot(path)
    except OSError:
        return False
    return now is not None and now.signature == seen.signature and now.data == seen.data


def _targets(path: str) -> tuple[set[str], set[str]]:
    """Directories to watch and file names that matter: the path's, and a symlink target's.

    A target inside a `..`-directory next to the file (a Kubernetes config map) is left
    out: that directory is replaced on every update, and the `..data` swap is seen anyway.
    """
    given = Path(path).absolute()
    real = given.resolve()
    dirs = {str(given.parent)} if given.parent.is_dir() else set()
    if real.parent.parent != given.parent and real.parent.is_dir():
        dirs.add(str(real.parent))
    return dirs, {given.name, real.name}


async def watch(
    path: str,
    on_change: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    *,
    debounce_ms: int = 1600,
    step_ms: int = 100,
) -> None:
    """Call `on_change` after each burst of changes to `path` until `stop` is set."""
    from watchfiles import Change, awatch

    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # our reload lines say enough
    dirs, names = _targets(path)
    if not dirs:
        log.warning("config: cannot watch %s: its directory does not exist", path)
        return

    def wanted(change: Change, changed: str) -> bool:
        name = os.path.basename(changed)
        return name in names or name.startswith("..")

    polling = False
    while not stop.is_set():
        try:
            async for _ in awatch(
                *sorted(dirs),
                watch_filter=wanted,
                debounce=debounce_ms,
                step=step_ms,
                stop_event=stop,
                recursive=False,
                force_polling=polling,
            ):
                await on_change()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if polling:
                log.exception("config: watching %s failed; SIGHUP and /api/reload still work", path)
                return
            # inotify can be unavailable (limits, some network file systems): poll instead.
            log.warning("config: cannot watch %s (%s); polling it instead", path, exc)
            polling = True

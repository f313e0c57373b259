"""Records polls that stored nothing (304, same bytes, failures) a batch at a time.

At a thousand 304s a second, a transaction per poll would be most of a poll's cost (one
writer thread on SQLite; a round trip and a commit each on PostgreSQL). Polls that end
while a batch is being written wait for the next one, which writes them all together:
the batch grows with the load, and a lone poll is written at once.
"""

from __future__ import annotations

import asyncio

from aggregator.model import PollResult
from aggregator.store import Claim, LeaseLost, SourceUpdate, Store

Pending = tuple[Claim, PollResult, SourceUpdate, "asyncio.Future[None]"]


class PollWriter:
    """`await writer.finish(...)` returns once the poll is recorded (LeaseLost if refused)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[Pending] = []
        self._task: asyncio.Task[None] | None = None

    async def finish(self, claim: Claim, result: PollResult, update: SourceUpdate) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((claim, result, update, done))
        if self._task is None:
            self._task = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    recorded = await self.store.call(
                        self.store.finish_polls, [(c, r, u) for c, r, u, _ in batch]
                    )
                except Exception as exc:  # the callers record it their own way
                    for *_, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for (claim, *_, done), ok in zip(batch, recorded, strict=True):
                    if done.done():  # its poll was cancelled
                        continue
                    if ok:
                        done.set_result(None)
                    else:
                        done.set_exception(
                            LeaseLost(
                                f"store: lease on {claim.source_id!r} (token {claim.token}) "
                                "was lost"
                            )
                        )
        finally:
            self._task = None

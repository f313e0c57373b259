"""Worker processes for parsing, each killable, so the event loop never waits on a parser.

feedparser has inputs that take seconds of CPU; a job past its deadline kills its
worker (a fresh one takes its place) and comes back as a parse timeout. Workers take
two kinds of job: a source's document (`Job`) and an article page (`ArticleJob`).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import overload

from aggregator.model import PollStatus
from aggregator.poller.work import (
    ArticleJob,
    ArticleOutcome,
    Job,
    Outcome,
    digest_article,
    digest_document,
)

Work = Callable[[Job], Outcome]
READY = "ready"
STARTUP_DEADLINE = 60.0  # seconds for a fresh worker to import its modules
NICE = 10  # added to a worker's niceness (os.nice): parsing yields the CPU to serving


def _do(work: Work, job: Job | ArticleJob) -> Outcome | ArticleOutcome:
    """One job of either kind: documents go to `work`, article pages to the extractor."""
    return digest_article(job) if isinstance(job, ArticleJob) else work(job)


def _serve(conn: Connection, work: Work) -> None:
    """A worker's loop: say it is ready, then one job in, one outcome out, until EOF.

    Workers run at a lower CPU priority (NICE): on a machine as busy as a first poll of
    thousands of sources makes it, the web server's requests come before parsing."""
    with contextlib.suppress(OSError, AttributeError):  # not on every platform
        os.nice(NICE)
    conn.send(READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_do(work, job))


class _Worker:
    def __init__(self, ctx: mp.context.BaseContext, work: Work) -> None:
        ours, theirs = ctx.Pipe()
        self.conn: Connection = ours
        self.process: BaseProcess = ctx.Process(target=_serve, args=(theirs, work), daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        theirs.close()
        self.ready = False

    def run(self, job: Job | ArticleJob, deadline: float) -> Outcome | ArticleOutcome | None:
        """The job's outcome, or None past the deadline. A fresh worker's start-up (an
        interpreter and its imports, slow on a busy machine) is not counted in it."""
        if not self.ready:
            if not self.conn.poll(STARTUP_DEADLINE):
                raise OSError(f"parser process did not start within {STARTUP_DEADLINE:g}s")
            self.conn.recv()
            self.ready = True
        self.conn.send(job)
        if self.conn.poll(deadline):
            result: Outcome | ArticleOutcome = self.conn.recv()
            return result
        return None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(2)
        with contextlib.suppress(Exception):
            self.conn.close()


class ParsePool:
    """`processes` workers; `processes=0` parses on a thread of this process (tests, `try`).

    `work` is what a worker runs per job: a module-level function, as workers are
    spawned fresh and import it by name.
    """

    def __init__(
        self, processes: int = 2, deadline: float = 30.0, work: Work = digest_document
    ) -> None:
        self.deadline = deadline
        self.processes = processes
        self.work = work
        self._ctx = mp.get_context("spawn")
        self._threads = ThreadPoolExecutor(max(processes, 1), thread_name_prefix="parse")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []

    async def start(self) -> None:
        if self.processes <= 0 or self._idle is not None:
            return
        self._idle = asyncio.Queue()
        loop = asyncio.get_running_loop()
        workers = await asyncio.gather(
            *(
                loop.run_in_executor(self._threads, _Worker, self._ctx, self.work)
                for _ in range(self.processes)
            )
        )
        for w in workers:
            self._workers.append(w)
            self._idle.put_nowait(w)

    async def close(self) -> None:
        for w in self._workers:
            w.kill()
        self._workers.clear()
        self._idle = None
        self._threads.shutdown(wait=False, cancel_futures=True)

    @overload
    async def run(self, job: Job) -> Outcome: ...
    @overload
    async def run(self, job: ArticleJob) -> ArticleOutcome: ...

    async def run(self, job: Job | ArticleJob) -> Outcome | ArticleOutcome:
        """Run a job on a worker (documents and article pages alike), within the deadline."""
        loop = asyncio.get_running_loop()
        if self.processes <= 0:
            return await loop.run_in_executor(self._threads, _do, self.work, job)
        if self._idle is None:
            await self.start()
        assert self._idle is not None
        worker = await self._idle.get()
        try:
            outcome = await loop.run_in_executor(self._threads, worker.run, job, self.deadline)
        except (EOFError, OSError) as exc:
            # The process died (a crash in a C parser, the OOM killer) or never started.
            self._replace(worker)
            return _failed(job, f"the parser process died: {exc or 'EOF'}")
        except BaseException:
            # Cancelled or broken mid-job: the worker's state is unknown, replace it.
            self._replace(worker)
            raise
        if outcome is None:
            self._replace(worker)
            return _failed(job, f"parsing took longer than {self.deadline:g}s and was stopped")
        self._idle.put_nowait(worker)
        return outcome

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)
        if self._idle is None:
            return
        fresh = _Worker(self._ctx, self.work)
        self._workers.append(fresh)
        self._idle.put_nowait(fresh)


def _failed(job: Job | ArticleJob, message: str) -> Outcome | ArticleOutcome:
    if isinstance(job, ArticleJob):
        return ArticleOutcome(False, message)
    return Outcome(PollStatus.PARSE_ERROR, message)

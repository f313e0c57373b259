"""`aggregator` command line: flags and AGGREGATOR_* variables → Settings → a command.

Wiring only; the work is in service.py and the stage packages.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aggregator import __version__
from aggregator.config import ConfigError, LoadedConfig, load
from aggregator.model import PollResult
from aggregator.observability import setup_logging
from aggregator.settings import Settings, SettingsError
from aggregator.store import IngestStats, Store

EXIT_CONFIG = 2
EXIT_STORE = 1


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="feeds.yaml (env AGGREGATOR_CONFIG; default ./feeds.yaml)")
    common.add_argument(
        "--db",
        help="SQLAlchemy URL (env AGGREGATOR_DATABASE_URL; default sqlite:///./aggregator.db)",
    )
    common.add_argument(
        "--log-level", dest="log_level", help="DEBUG, INFO, WARNING (env AGGREGATOR_LOG_LEVEL)"
    )
    net = argparse.ArgumentParser(add_help=False)
    net.add_argument("--host", help="listen address (env AGGREGATOR_HOST; default 127.0.0.1)")
    net.add_argument("--port", type=int, help="listen port (env AGGREGATOR_PORT; default 8080)")
    work = argparse.ArgumentParser(add_help=False)
    work.add_argument(
        "--workers", type=int, help="parser processes (env AGGREGATOR_WORKERS; default 2)"
    )
    work.add_argument(
        "--concurrency", type=int, help="polls in flight (env AGGREGATOR_CONCURRENCY; default 16)"
    )

    p = argparse.ArgumentParser(prog="aggregator", description="Regional news feed aggregator.")
    p.add_argument("--version", action="version", version=f"aggregator {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    live = argparse.ArgumentParser(add_help=False)
    live.add_argument(
        "--no-watch",
        dest="no_watch",
        action="store_true",
        help="do not reload feeds.yaml when it changes; SIGHUP still does "
        "(env AGGREGATOR_WATCH_CONFIG=0)",
    )
    sub.add_parser("run", parents=[common, net, work, live], help="poll and serve in one process")
    sub.add_parser("serve", parents=[common, net, live], help="the web server alone")
    poll = sub.add_parser("poll", parents=[common, work, live], help="the pollers alone")
    poll.add_argument(
        "--once", action="store_true", help="poll every due source once, print a summary, exit"
    )
    poll.add_argument(
        "--source", action="append", default=[], help="with --once: only this source (repeatable)"
    )
    check = sub.add_parser("check", parents=[common], help="validate feeds.yaml")
    check.add_argument("path", nargs="?", help="the file to check (default: --config)")
    demo = sub.add_parser(
        "demo", parents=[common, net, work], help="the whole service on bundled sample sources"
    )
    demo.add_argument(
        "--keep", action="store_true", help="keep the demo database instead of a temporary one"
    )
    status = sub.add_parser("status", parents=[common], help="the source health table")
    status.add_argument(
        "--sort",
        choices=["status", "age", "region", "id"],
        default="region",
        help="problems first, longest without a success first, by region (default), by id",
    )
    status.add_argument("--region", help="only this region and the regions below it")
    status.add_argument("--json", action="store_true", help="JSON (as /api/sources) for scripts")
    reclassify = sub.add_parser(
        "reclassify", parents=[common], help="apply feeds.yaml's channel rules to stored articles"
    )
    reclassify.add_argument(
        "--batch", type=int, default=500, help="entries per transaction (default 500)"
    )
    tryout = sub.add_parser(
        "try", parents=[common], help="fetch one source once, store nothing, show its entries"
    )
    tryout.add_argument("source_id", metavar="SOURCE_ID")
    tryout.add_argument(
        "--fulltext",
        type=int,
        nargs="?",
        const=3,
        default=0,
        metavar="N",
        help="also fetch the article pages of the first N entries (default 3) and show them",
    )
    opml = sub.add_parser("opml", parents=[common], help="OPML export and import")
    opml_sub = opml.add_subparsers(dest="opml_command", required=True, metavar="ACTION")
    opml_sub.add_parser("export", parents=[common], help="print every feed as OPML 2.0")
    opml_import = opml_sub.add_parser(
        "import", parents=[common], help="add a feed reader's OPML subscriptions to feeds.yaml"
    )
    opml_import.add_argument("file", help="the OPML file (a feed reader's export)")
    opml_import.add_argument("--region", required=True, help="id of the region they go in")
    opml_import.add_argument(
        "--dry-run", action="store_true", help="show what would be added; write nothing"
    )
    db = sub.add_parser("db", parents=[common], help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", parents=[common], help="create or migrate the schema")
    db_sub.add_parser(
        "purge", parents=[common], help="delete articles older than keep_days now (retention)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from aggregator.errors import StoreError

    try:
        return _run(argv)
    except StoreError as exc:  # e.g. a schema older than the code: the message says what to run
        print(exc, file=sys.stderr)
        return EXIT_STORE


def _run(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    flags = {
        k: v
        for k, v in vars(args).items()
        if k in ("config", "db", "host", "port", "workers", "concurrency", "log_level", "no_watch")
    }
    try:
        settings = Settings.from_env(**flags)
    except SettingsError as exc:
        print(f"aggregator: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(settings.log_level)
    command = args.command
    if command == "check":
        return cmd_check(args.path or settings.config)
    if command == "db" and args.db_command == "upgrade":
        return cmd_db_upgrade(settings)
    if command == "status":
        return cmd_status(settings, sort=args.sort, region=args.region, as_json=args.json)
    if command == "demo":
        from aggregator.demo import run_demo

        return run_demo(settings, keep=args.keep)
    if command == "opml" and args.opml_command == "import":
        return cmd_opml_import(settings.config, args.file, args.region, dry_run=args.dry_run)
    config = _load_or_exit(settings.config)
    if config is None:
        return EXIT_CONFIG
    if command == "opml":
        from aggregator.publish import render_opml

        sys.stdout.write(render_opml(config.site, config.site.base_url, datetime.now(UTC)).decode())
        return 0
    if command == "try":
        return cmd_try(config, args.source_id, args.fulltext)
    if command == "reclassify":
        return cmd_reclassify(settings, config, max(1, args.batch))
    if command == "poll" and args.once:
        return cmd_poll_once(settings, config, args.source)
    if command == "db":
        return cmd_db_purge(settings, config)
    from aggregator.service import serve_forever

    roles = {"run": (True, True), "serve": (True, False), "poll": (False, True)}[command]
    asyncio.run(serve_forever(settings, config, web=roles[0], poll=roles[1]))
    return 0


def _load_or_exit(path: str) -> LoadedConfig | None:
    try:
        return load(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s); nothing was started", file=sys.stderr)
        return None


def cmd_check(path: str) -> int:
    try:
        config = load(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        return EXIT_CONFIG
    print(config.summary)
    return 0


def cmd_opml_import(path: str, opml_file: str, region: str, *, dry_run: bool) -> int:
    """Add an OPML export's feeds to feeds.yaml; exit 2, writing nothing, on any problem."""
    from aggregator.config.edit import plan_import, write_atomically
    from aggregator.errors import ParseError
    from aggregator.publish import parse_opml

    try:
        with open(opml_file, "rb") as file:
            feeds = parse_opml(file.read(8 * 1024 * 1024 + 1)[: 8 * 1024 * 1024])
    except (OSError, ParseError) as exc:
        print(f"{opml_file}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not feeds:
        print(f"{opml_file}: no feeds (outlines with an xmlUrl) in this file", file=sys.stderr)
        return EXIT_CONFIG
    config = _load_or_exit(path)
    if config is None:
        return EXIT_CONFIG
    with open(path, "rb") as file:
        text = file.read().decode("utf-8-sig")
    try:
        plan = plan_import(text, path, region, feeds, note=f"imported from {Path(opml_file).name}")
        title = config.site.regions[region].title
        for s in plan.added:
            print(f"  + {s.id:<28} {s.url}  {s.title or ''}")
        for k in plan.skipped:
            print(f"  = {k.feed.xml_url}  skipped: {k.reason}")
        verb = "would add" if dry_run else "added"
        print(
            f"{path}: {verb} {len(plan.added)} source(s) to {region} ({title}); "
            f"{len(plan.skipped)} skipped"
        )
        if plan.added and not dry_run:
            write_atomically(path, plan.text, config)
    except (ConfigError, OSError) as exc:
        for line in getattr(exc, "problems", None) or [exc]:
            print(line, file=sys.stderr)
        print(f"{path}: not changed", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def cmd_db_upgrade(settings: Settings) -> int:
    """Migrate the database to this code's schema (creating it when empty)."""
    from aggregator.store import migrate
    from aggregator.store.engine import make_engine

    engine = make_engine(settings.db)
    try:
        with engine.connect() as conn:
            before = migrate.inspect_schema(conn)
        after = migrate.upgrade(engine)
    finally:
        engine.dispose()
    if before.revision == after.revision:
        print(f"schema already at revision {after.revision}")
    else:
        print(f"schema upgraded from revision {before.revision or '(empty)'} to {after.revision}")
    return 0


def cmd_try(config: LoadedConfig, source_id: str, fulltext: int) -> int:
    from aggregator.tryout import render, try_source

    if source_id not in config.site.sources:
        print(f"try: unknown source {source_id!r} in {config.path}", file=sys.stderr)
        return EXIT_CONFIG
    tried = asyncio.run(try_source(config.site, source_id, fulltext=fulltext))
    render(_stdout_console(), tried, config.site.timezone)
    if not tried.ok:
        print(f"try: {source_id}: {tried.status.value}: {tried.message}", file=sys.stderr)
        return 1
    return 0


def cmd_db_purge(settings: Settings, config: LoadedConfig) -> int:
    """One retention pass now (pollers also run one every hour)."""
    from aggregator.poller.retention import run_retention
    from aggregator.store import Store

    store = Store(settings.db, create=False)
    try:
        report = asyncio.run(run_retention(store, config.site, datetime.now(UTC)))
    finally:
        store.close()
    if report.skipped:
        print("another process is running retention now; nothing done")
        return 1
    print(
        f"{report.entries} entries of {report.sources} sources deleted (tombstones kept), "
        f"{report.tombstones} tombstones expired, {report.changes} change-log rows trimmed"
    )
    return 0


def cmd_poll_once(settings: Settings, config: LoadedConfig, only: list[str]) -> int:
    from aggregator.service import open_parts

    unknown = [s for s in only if s not in config.site.sources]
    if unknown:
        print(f"unknown source(s): {', '.join(unknown)}", file=sys.stderr)
        return EXIT_CONFIG
    console = Console(stderr=True)
    results: list[tuple[PollResult, IngestStats]] = []

    async def go() -> None:
        async with open_parts(settings, config, poll=True) as parts:
            assert parts.poller is not None
            total = len(only or config.site.sources)
            with Progress(
                TextColumn("polling"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[last]}"),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("poll", total=total, last="")

                def step(result: PollResult, stats: IngestStats) -> None:
                    progress.update(
                        task, advance=1, last=f"{result.source_id}: {result.status.value}"
                    )

                results.extend(await parts.poller.run_once(only or None, progress=step))

    asyncio.run(go())
    _print_summary(_stdout_console(), results)
    return 0


def _print_summary(console: Console, results: list[tuple[PollResult, IngestStats]]) -> None:
    table = Table(title="poll summary", show_lines=False)
    for col in ("source", "status", "http", "time", "new", "updated", "message"):
        table.add_column(col, overflow="fold")
    counts: Counter[str] = Counter()
    for r, s in sorted(results, key=lambda rs: (not rs[0].status.is_success, rs[0].source_id)):
        counts[r.status.value] += 1
        style = "green" if r.status.is_success else "red"
        table.add_row(
            r.source_id,
            f"[{style}]{r.status.value}[/]",
            str(r.http_status or ""),
            f"{r.duration:.2f}s",
            str(s.new),
            str(s.updated),
            (r.message or "")[:120],
        )
    console.print(table)
    summary = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    new_total = sum(s.new for _, s in results)
    console.print(f"{len(results)} sources polled: {summary}; {new_total} new entries")


def _stdout_console() -> Console:
    """A console for tables: wide enough to stay readable when piped to a file."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def cmd_status(
    settings: Settings, *, sort: str = "region", region: str | None = None, as_json: bool = False
) -> int:
    """The health table (or JSON) from the database; exit 1 without one, 2 on a bad --region."""
    from aggregator import status
    from aggregator.model import Site

    try:
        config: LoadedConfig | None = load(settings.config)
    except ConfigError as exc:
        config = None
        print(
            f"{settings.config}: {len(exc.problems)} problem(s) (see `aggregator check`); "
            "showing the database alone",
            file=sys.stderr,
        )
    view = status.View(config.site) if config else status.View(Site("", ""), known=False)
    if region is not None and config is not None and region not in config.site.regions:
        print(
            f"unknown region {region!r}; one of: {', '.join(config.site.regions)}", file=sys.stderr
        )
        return EXIT_CONFIG
    store = _open_existing(settings.db)
    if store is None:
        return 1
    try:
        rows = store.health()
    finally:
        store.close()
    now = datetime.now(UTC)
    found = status.select(status.records(rows, view, now), view, region, sort)
    if as_json:
        sys.stdout.buffer.write(status.as_json(found, now, config.path if config else None))
        return 0
    where = f" in {region}" if region else ""
    title = f"source health{where}: {len(found)} source(s), sorted by {sort}"
    _stdout_console().print(status.table(found, view, now, title))
    return 0


def _open_existing(url: str) -> Store | None:
    """The store at `url` if it exists (never creating one), else None with the reason shown."""
    from sqlalchemy.engine import make_url

    from aggregator.errors import StoreError
    from aggregator.store.engine import normalise_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        print(
            f"no database at {parsed.database}: start the service first, or give --db",
            file=sys.stderr,
        )
        return None
    try:
        return Store(url, create=False)
    except (StoreError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return None
    except Exception as exc:  # unreachable server, bad credentials: say so, no traceback
        print(
            f"store: cannot open {parsed.render_as_string()}: {str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return None


def cmd_reclassify(settings: Settings, config: LoadedConfig, batch: int) -> int:
    """Re-apply the channel rules to every stored entry, a batch per transaction."""
    store = _open_existing(settings.db)
    if store is None:
        return 1
    console = Console(stderr=True)
    try:
        store.configure(config.site)
        total = store.counts()["entries"]
        with Progress(
            TextColumn("reclassifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("reclassify", total=total)
            done = store.reclassify(
                config.site,
                datetime.now(UTC),
                batch,
                lambda part: progress.update(task, advance=part.entries),
            )
    finally:
        store.close()
    print(
        f"{done.entries} entries read, {done.changed} changed channels; "
        f"{done.stories} stories re-filed, {len(done.feeds)} feeds changed"
    )
    return 0

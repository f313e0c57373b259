"""How fast a cached merged feed is served, against a bare aiohttp handler and nginx.

    PYTHONPATH=. python bench/serve.py                   # wrk -t2 -c50, 10 s per case
    PYTHONPATH=. python bench/serve.py --duration 3 --rounds 3
    PYTHONPATH=. python bench/serve.py --load aiohttp    # no wrk: an in-process client

In one run, over the same bytes:

- **nginx** (if installed; one worker process, access log off, `gzip_static`) serves the
  feeds as static files;
- **bare**: one aiohttp process whose single handler returns the same bytes from memory
  (a dict lookup, an If-None-Match comparison, a pre-compressed body when asked);
- **ours**: `aggregator serve` as a user runs it, over a fresh SQLite store filled through
  the Store API (`--articles` articles across the counties of one city), answering
  `/feeds/region/linyi.{atom,rss,json}` from its render cache.

Cases: the full body (identity), a 304 revalidation (If-None-Match with the ETag), and the
gzip and br variants. Each is measured with `wrk -t2 -c50 -d<N>s --latency` (req/s and
p99), servers interleaved per case; `--rounds` repeats everything and keeps each cell's
best. wrk and the servers share the machine's cores (printed), so absolute figures move
with the load: compare the ratios, which are taken within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REGION = "linyi"
COUNTIES = {"feixian": "费县", "mengyin": "蒙阴", "lanling": "兰陵", "yishui": "沂水"}
FORMATS = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
SERVERS = ("nginx", "bare", "ours")
CASES = ("200", "304", "gzip", "br")  # br: nginx has no brotli module in Debian's builds
_WORDS = (
    "召开会议项目企业乡村振兴示范学校医院道路农民增收蜜桃樱桃旅游"
    "文化干部党委招商产业民生就业养老社区街道工作部署推进建设发展"
)
WORDS = [_WORDS[i : i + 2] for i in range(0, len(_WORDS), 2)]


# --- the store ------------------------------------------------------------------------


def feeds_yaml() -> str:
    lines = [
        "site: {title: 临沂新闻聚合, base_url: 'https://news.example.org',",
        "       timezone: Asia/Shanghai}",
        "defaults: {interval: 10m}",
        "channels:",
        "  - {id: politics, title: 时政, keywords: [会议, 干部, 党委]}",
        "  - {id: economy, title: 经济, keywords: [企业, 项目, 招商]}",
        "regions:",
        f"  - id: {REGION}",
        "    title: 临沂市",
        "    regions:",
    ]
    for cid, name in COUNTIES.items():
        lines += [
            f"      - id: {cid}",
            f"        title: {name}",
            "        sources:",
            f"          - {{id: {cid}-news, title: {name}新闻网, url: 'http://{cid}.example/rss.xml'}}",
        ]
    return "\n".join(lines) + "\n"


def fill_store(db_url: str, config_path: Path, n: int) -> None:
    """`n` articles, spread over the counties, stored as the poller stores a poll."""
    from aggregator.config import load_text
    from aggregator.store import Store
    from tests.factories import article, store_articles

    site = load_text(config_path.read_text(), str(config_path)).site
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(1)
    store = Store(db_url)
    try:
        store.sync_sources(site, now, rng)
        for i, county in enumerate(COUNTIES):
            batch = []
            for k in range(i, n, len(COUNTIES)):
                title = COUNTIES[county] + "".join(rng.choices(WORDS, k=rng.randint(5, 10)))
                body = "。".join("".join(rng.choices(WORDS, k=14)) for _ in range(12))
                batch.append(
                    article(
                        f"{county}-news",
                        n=k,
                        link=f"http://{county}.example/news/{k}.html",
                        title=title,
                        summary=f"<p>{body[:300]}</p>",
                        text=body,
                        published=now - timedelta(minutes=7 * k + 1),
                        guid=f"http://{county}.example/news/{k}.html",
                        channels=(),
                    )
                )
            store_articles(store, f"{county}-news", batch, now)
    finally:
        store.close()


# --- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


@contextmanager
def child(args: list[str], url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A server process (its stderr in `log`), stopped (SIGTERM, then SIGKILL) whatever
    happens."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(args, stderr=err)
    try:
        wait_http(url, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    pid: int


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (nginx's worker), from /proc; 0 where
    there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(c)) for c in children)


def start_ours(stack: ExitStack, tmp: Path, articles: int) -> Server:
    config = tmp / "feeds.yaml"
    config.write_text(feeds_yaml(), encoding="utf-8")
    db = f"sqlite:///{tmp / 'bench.db'}"
    fill_store(db, config, articles)
    port = free_port()
    args = [sys.executable, "-m", "aggregator", "serve", "--config", str(config), "--db", db]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-watch", "--log-level", "WARNING"]
    base = f"http://127.0.0.1:{port}"
    proc = stack.enter_context(child(args, base + "/healthz", tmp / "ours.log"))
    return Server(base, proc.pid)


def snapshot(base: str, www: Path) -> dict[str, str]:
    """Our feeds' bytes as files (and .gz, .br beside them) for nginx and bare to serve."""
    paths = {}
    for fmt in FORMATS:
        path = f"/feeds/region/{REGION}.{fmt}"
        with urllib.request.urlopen(base + path) as resp:
            body = resp.read()
        target = www / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        for coding in ("gzip", "br"):
            req = urllib.request.Request(base + path, headers={"Accept-Encoding": coding})
            with urllib.request.urlopen(req) as resp:
                if resp.headers["Content-Encoding"] != coding:
                    raise RuntimeError(f"ours: {path} was not served with {coding}")
                encoded = resp.read()
            suffix = ".gz" if coding == "gzip" else ".br"
            target.with_name(target.name + suffix).write_bytes(encoded)
        paths[fmt] = path
    return paths


BARE_APP = """
import hashlib, sys
from pathlib import Path
from aiohttp import web

root, port = Path(sys.argv[1]), int(sys.argv[2])
TYPES = {types!r}
FILES = {{}}
for f in root.rglob("*"):
    if f.is_file() and f.suffix[1:] in TYPES:
        body = f.read_bytes()
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        gz = f.with_name(f.name + ".gz").read_bytes()
        br = f.with_name(f.name + ".br").read_bytes()
        FILES["/" + str(f.relative_to(root))] = (body, gz, br, etag, TYPES[f.suffix[1:]])

async def handler(request):
    found = FILES.get(request.path)
    if found is None:
        raise web.HTTPNotFound()
    body, gz, br, etag, ctype = found
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={{"ETag": etag}})
    accept = request.headers.get("Accept-Encoding", "")
    headers = {{"ETag": etag, "Content-Type": ctype}}
    if "br" in accept:
        body, headers["Content-Encoding"] = br, "br"
    elif "gzip" in accept:
        body, headers["Content-Encoding"] = gz, "gzip"
    return web.Response(body=body, headers=headers)

app = web.Application()
app.router.add_get("/{{tail:.*}}", handler)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
"""


def start_bare(stack: ExitStack, tmp: Path, www: Path, probe: str) -> Server:
    script = tmp / "bare.py"
    script.write_text(BARE_APP.format(types=FORMATS))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, str(script), str(www), str(port)]
    proc = stack.enter_context(child(args, base + probe, tmp / "bare.log"))
    return Server(base, proc.pid)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    types {{ application/atom+xml atom; application/rss+xml rss; application/feed+json json; }}
    charset utf-8;
    charset_types application/atom+xml application/rss+xml application/feed+json;
    client_body_temp_path {tmp}/nginx-tmp;
    proxy_temp_path {tmp}/nginx-tmp;
    fastcgi_temp_path {tmp}/nginx-tmp;
    uwsgi_temp_path {tmp}/nginx-tmp;
    scgi_temp_path {tmp}/nginx-tmp;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    gzip_static on;
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
"""


def start_nginx(stack: ExitStack, tmp: Path, www: Path, probe: str) -> Server | None:
    exe = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if exe is None:
        return None
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, www=www, port=port))
    for path in (tmp, *www.rglob("*"), www):  # a root nginx's worker runs as nobody
        path.chmod(0o755 if path.is_dir() else 0o644)
    base = f"http://127.0.0.1:{port}"
    args = [exe, "-e", str(tmp / "nginx-error.log"), "-p", str(tmp), "-c", str(conf)]
    proc = stack.enter_context(child(args, base + probe, tmp / "nginx.log"))
    return Server(base, proc.pid)


# --- load -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rps: float
    p99_ms: float
    requests: int
    errors: str = ""  # wrk's non-2xx/3xx and socket errors, if any
    cpu_us: float = 0.0  # the server's CPU time per request (0: not measured)


def request_headers(base: str, path: str, case: str) -> dict[str, str]:
    if case == "gzip":
        return {"Accept-Encoding": "gzip"}
    if case == "br":
        return {"Accept-Encoding": "br"}
    if case == "304":
        with urllib.request.urlopen(base + path) as resp:
            return {"If-None-Match": resp.headers["ETag"]}
    return {}


def check(base: str, path: str, case: str, headers: dict[str, str]) -> None:
    """Each server answers the case as it should before it is timed."""
    req = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(req) as resp:
            status, coding = resp.status, resp.headers.get("Content-Encoding")
    except urllib.error.HTTPError as exc:
        status, coding = exc.code, None
    want = (304, None) if case == "304" else (200, case if case in ("gzip", "br") else None)
    if (status, coding) != want:
        raise RuntimeError(f"{base}{path} [{case}]: got {status} {coding}, wanted {want}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str) -> Result:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    total = re.search(r"^\s+(\d+) requests in", out, re.M)
    if rps is None or p99 is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    trouble = re.finditer(r"^\s*(Non-2xx.*|Socket errors.*)$", out, re.M)
    problems = "; ".join(m.group(0).strip() for m in trouble)
    p99_ms = float(p99.group(1)) * _UNITS[p99.group(2)]
    return Result(float(rps.group(1)), p99_ms, int(total.group(1)), problems)


def run_wrk(url: str, headers: dict[str, str], duration: float, threads: int, conns: int) -> Result:
    args = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(duration))}s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


async def _client_load(url: str, headers: dict[str, str], duration: float, conns: int) -> Result:
    import aiohttp

    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=conns)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        stop = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < stop:
                began = time.perf_counter()
                async with session.get(url, headers=headers) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        spent = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return Result(len(latencies) / spent, p99, len(latencies))


def run_client(url: str, headers: dict[str, str], duration: float, _t: int, conns: int) -> Result:
    """The in-process stand-in for wrk (smoke runs, machines without wrk): slower, since
    the client is Python too, but it runs every other part of the benchmark."""
    return asyncio.run(_client_load(url, headers, duration, conns))


# --- the run --------------------------------------------------------------------------


def ratio(a: Result | None, b: Result | None) -> str:
    return f"{a.rps / b.rps:.2f}" if a and b and b.rps else "-"


def cell(r: Result | None) -> str:
    if r is None:
        return f"{'n/a':>9} {'':>6} {'':>5}"
    return f"{r.rps:>9,.0f} {r.p99_ms:>6.1f} {r.cpu_us:>5.0f}"


def verdict(results: dict[tuple[str, str, str], Result], formats: list[str]) -> list[str]:
    """The issue's targets, judged on this run's figures."""
    lines = []
    for fmt in formats:
        ours, bare, nginx = (results.get((fmt, "200", s)) for s in ("ours", "bare", "nginx"))
        if ours and bare:
            lines.append(f"{fmt} 200: ours/bare {ours.rps / bare.rps:.2f} (target >= 0.80)")
        if ours and nginx:
            lines.append(f"{fmt} 200: ours/nginx {ours.rps / nginx.rps:.2f} (target >= 0.20)")
        r304 = results.get((fmt, "304", "ours"))
        if r304:
            lines.append(f"{fmt} 304: ours {r304.rps:,.0f} req/s (target >= 10,000)")
    worst = max((r.p99_ms for (_, _, s), r in results.items() if s == "ours"), default=0.0)
    lines.append(f"ours: worst p99 {worst:.1f} ms (target <= 15)")
    return lines


def measure(
    runner: Callable[..., Result], server: Server, path: str, case: str, args: argparse.Namespace
) -> Result:
    headers = request_headers(server.base, path, case)
    check(server.base, path, case, headers)
    cpu = cpu_seconds(server.pid)
    got = runner(server.base + path, headers, args.duration, args.threads, args.connections)
    spent = cpu_seconds(server.pid) - cpu
    return replace(got, cpu_us=spent / max(got.requests, 1) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60, help="stored in the region's feed")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--rounds", type=int, default=1, help="repeat all; keep each best")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--load", choices=("auto", "wrk", "aiohttp"), default="auto")
    parser.add_argument("--formats", default="atom,rss,json")
    parser.add_argument("--cases", default=",".join(CASES), help="of " + ", ".join(CASES))
    parser.add_argument("--no-nginx", action="store_true")
    args = parser.parse_args()
    load = args.load
    if load == "auto":
        load = "wrk" if shutil.which("wrk") else "aiohttp"
    runner = run_wrk if load == "wrk" else run_client
    formats = [f for f in args.formats.split(",") if f]
    cases = [c for c in args.cases.split(",") if c]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-serve-")))
        www = tmp / "www"
        www.mkdir()
        ours = start_ours(stack, tmp, args.articles)
        paths = snapshot(ours.base, www)
        probe = paths["atom"]
        servers: dict[str, Server | None] = {
            "nginx": None if args.no_nginx else start_nginx(stack, tmp, www, probe),
            "bare": start_bare(stack, tmp, www, probe),
            "ours": ours,
        }
        sizes = {f: len((www / paths[f].lstrip("/")).read_bytes()) for f in formats}
        print(
            f"load: {load} -t{args.threads} -c{args.connections}, {args.duration:g}s per case, "
            f"{args.rounds} round(s), best kept; {os.cpu_count()} cores shared by the load "
            f"generator and the servers (load average {os.getloadavg()[0]:.2f} at start)"
        )
        print(
            "servers: nginx 1 worker process (static files, gzip_static)"
            + (" [not installed]" if servers["nginx"] is None and not args.no_nginx else "")
            + "; bare aiohttp 1 process; ours `aggregator serve` 1 process"
        )
        print("feed sizes: " + ", ".join(f"{f} {n:,} B" for f, n in sizes.items()))
        results: dict[tuple[str, str, str], Result] = {}
        for _ in range(args.rounds):
            for fmt in formats:
                for case in cases:
                    for name, server in servers.items():
                        if server is None or (name == "nginx" and case == "br"):
                            continue
                        got = measure(runner, server, paths[fmt], case, args)
                        key = (fmt, case, name)
                        if key not in results or got.rps > results[key].rps:
                            results[key] = got
        print()
        print("req/s, p99 latency (ms) and the server's CPU time per request (us), per server")
        head = "".join(f"{s:>9} {'p99':>6} {'cpu':>5}  " for s in SERVERS)
        print(f"{'feed':<5}{'case':<5}{head}{'ours/bare':>10}{'ours/nginx':>11}")
        for fmt in formats:
            for case in cases:
                row = [results.get((fmt, case, s)) for s in SERVERS]
                cells = "".join(cell(r) + "  " for r in row)
                ratios = f"{ratio(row[2], row[1]):>10}{ratio(row[2], row[0]):>11}"
                print(f"{fmt:<5}{case:<5}{cells}{ratios}")
        print()
        for line in verdict(results, formats):
            print(line)
        for (fmt, case, server), r in results.items():
            if r.errors:
                print(f"warning: {server} {fmt} {case}: {r.errors}")


if __name__ == "__main__":
    main()

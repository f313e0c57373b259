"""Compare a running aggregator's feeds with a source universe's expected.json.

Usage: python scripts/universe_check.py EXPECTED_JSON [BASE_URL]   (default http://127.0.0.1:8080)

For every region, channel and source feed it reads the JSON Feed (following next_url),
matches items to the universe's articles by link (utm_* ignored) or title, and prints
what is missing, unexpected, duplicated, or published at the wrong time. Needs only the
standard library; run it by hand against ../shared/universe, never from the tests.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def strip_utm(url: str) -> str:
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.startswith("utm_")
    ]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def read_feed(url: str) -> list[dict]:
    items: list[dict] = []
    while url:
        with urllib.request.urlopen(url, timeout=30) as resp:
            data = json.load(resp)
        items.extend(data["items"])
        url = data.get("next_url")
    return items


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        expected = json.load(f)
    base = (sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8080").rstrip("/")
    tick = expected["tick"]
    articles = [a for a in expected["articles"] if a["tick"] <= tick]
    by_link = {strip_utm(link): a for a in articles for link in a["links"]}
    by_title = {a["title"].strip(): a for a in articles}
    parents = {r["id"]: r["parent"] for r in expected["regions"]}

    def under(region: str, top: str) -> bool:
        while region:
            if region == top:
                return True
            region = parents.get(region)
        return False

    def match(item: dict) -> dict | None:
        return by_link.get(strip_utm(item.get("url", ""))) or by_title.get(
            item.get("title", "").strip()
        )

    scopes = [
        ("region", r["id"], lambda a, r=r["id"]: under(a["region"], r)) for r in expected["regions"]
    ]
    scopes += [
        ("channel", c["id"], lambda a, c=c["id"]: c in a["channels"]) for c in expected["channels"]
    ]
    total_missing = total_extra = total_dupes = total_time = 0
    for kind, ident, wanted in scopes:
        items = read_feed(f"{base}/feeds/{kind}/{ident}.json?limit=500")
        want = {a["id"] for a in articles if wanted(a) and not a["optional"]}
        allowed = {a["id"] for a in articles if wanted(a)}
        got = [match(i) for i in items]
        ids = Counter(a["id"] for a in got if a)
        missing = want - set(ids)
        pairs = list(zip(items, got, strict=True))
        extra = [i["title"] for i, a in pairs if a is None or a["id"] not in allowed]
        dupes = [k for k, n in ids.items() if n > 1]
        wrong_time = [
            (a["id"], a["published"], i["date_published"])
            for i, a in zip(items, got, strict=True)
            if a
            and a["published"]
            and i["date_published"].replace(".000000", "")[:19] != a["published"][:19]
        ]
        total_missing += len(missing)
        total_extra += len(extra)
        total_dupes += len(dupes)
        total_time += len(wrong_time)
        flag = "ok " if not (missing or extra or dupes) else "BAD"
        print(
            f"{flag} {kind:7} {ident:12} items={len(items):4} expected={len(want):4} "
            f"missing={len(missing)} "
            f"unexpected={len(extra)} duplicated={len(dupes)} wrong_time={len(wrong_time)}"
        )
        for m in sorted(missing)[:3]:
            a = next(x for x in articles if x["id"] == m)
            print(f"      missing {m} {a['title']} {a['sources']} case={a['case']}")
        for t in extra[:3]:
            print(f"      unexpected {t}")
        for d in dupes[:3]:
            print(f"      duplicated {d}")
        for w in wrong_time[:2]:
            print(f"      time {w}")
    print(
        f"total: missing={total_missing} unexpected={total_extra} "
        f"duplicated={total_dupes} wrong_time={total_time}"
    )
    return 0 if not (total_missing or total_extra or total_dupes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

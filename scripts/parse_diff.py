"""Run both feed readers over a folder of feeds and count where the fast one disagrees.

    python scripts/parse_diff.py ../shared/corpus [-v]

Every file is read as a feed served from http://example.org/<its path>; the fast reader
(aggregator.parse.fast) either refuses it (feedparser reads it) or must give the same
normalised articles and feed fields as feedparser alone. Prints the counts and every
mismatch; exit 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.feeddiff import compare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true", help="also list refused files")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    counts: Counter[str] = Counter()
    files = sorted(
        p for p in args.corpus.rglob("*") if p.suffix in (".xml", ".rss", ".rdf", ".atom")
    )
    for path in files:
        rel = path.relative_to(args.corpus).as_posix()
        try:
            verdict = compare(path.read_bytes(), f"http://example.org/{rel}")
        except Exception as exc:  # a crash is a finding too
            counts["crashed"] += 1
            print(f"CRASH {rel}: {type(exc).__name__}: {exc}")
            continue
        if not verdict.accepted:
            counts["refused"] += 1
            if args.verbose:
                print(f"refused {rel}")
        elif verdict.difference:
            counts["mismatched"] += 1
            print(f"MISMATCH {rel}: {verdict.difference[:400]}")
        else:
            counts["accepted"] += 1
    total = sum(counts.values())
    print(
        f"files {total}: accepted and equal {counts['accepted']}, "
        f"refused (feedparser reads them) {counts['refused']}, "
        f"mismatched {counts['mismatched']}, crashed {counts['crashed']}"
    )
    return 1 if counts["mismatched"] or counts["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())

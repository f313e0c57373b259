"""Search over titles and text from an index of character bigrams, on SQLite and PostgreSQL.

Chinese is written without spaces, so a word tokenizer sees a whole sentence as one
"word" and a search for 费县 finds nothing. Instead every run of CJK characters is
indexed as its overlapping character pairs plus its last character (费县山楂节 →
费县 县山 山楂 楂节 节); other scripts are indexed as lower-cased words. A search word
becomes a phrase of the same tokens in a row, so it matches wherever its characters
stand together: 费县 and 山楂 (one pair each), 乡村振兴 (three pairs in a row), and a
single character (a prefix of a pair, or the run's last character).

- SQLite: an FTS5 table `entry_search` (rowid = entry id) of space-separated tokens,
  read with FTS5's `ascii` tokenizer, so our tokens are its tokens.
- PostgreSQL: a `tsvector` column of the same tokens with positions, GIN-indexed, built
  from a tsvector literal so no text-search parser or locale is involved; phrases use
  the `<->` operator.

Words in a query are ANDed; "quoted text" (ASCII or Chinese quotes) is one phrase, where
spaces and punctuation must be there too. Tokenising and query building are PURE; the
functions that take a connection write and read the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, cast, column, literal_column, select, table
from sqlalchemy.dialects.postgresql import TSQUERY

from aggregator.normalise.terms import RUN as _RUN
from aggregator.normalise.terms import fold as _fold
from aggregator.normalise.terms import index_tokens, terms, tokens
from aggregator.normalise.terms import pairs as _pairs
from aggregator.normalise.terms import runs as _runs
from aggregator.store import bulk
from aggregator.store.tables import ENTRIES, ENTRY_SEARCH, TABLE_ENTRY_SEARCH

__all__ = ["Phrase", "entry_terms", "index_entries", "index_tokens", "parse_search", "tokens"]

MAX_POSITIONS = 255
BATCH = 500

_QUOTED = re.compile(r'"([^"]*)"?|“([^”]*)”?|(\S+)')

_FTS = table(TABLE_ENTRY_SEARCH, column("rowid"), column("terms"))
E = ENTRIES.c


@dataclass(frozen=True, slots=True)
class Phrase:
    """Tokens that must stand in this order, one after another; the last may be a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def _words(value: str) -> list[list[tuple[bool, str]]]:
    """Runs grouped into words: runs with nothing between them (第3次, G20峰会) stay together."""
    words: list[list[tuple[bool, str]]] = []
    end = -1
    for m in _RUN.finditer(_fold(value)):
        if m.start() != end:
            words.append([])
        words[-1].append((bool(m[1]), m[0]))
        end = m.end()
    return words


def _phrase(runs: Sequence[tuple[bool, str]]) -> Phrase | None:
    """The tokens a document has where these runs stand together.

    A run followed by more of the phrase ends there in the document too, so it carries its
    last character (as documents do); the final run may continue in the document, so it
    is matched by its pairs alone, or as a prefix when it is a single character.
    """
    toks: list[str] = []
    prefix = False
    for i, (cjk, run) in enumerate(runs):
        if not cjk:
            toks.append(run)
        elif i < len(runs) - 1:
            toks.extend([*_pairs(run), run[-1]])
        elif len(run) == 1:
            toks.append(run)
            prefix = True
        else:
            toks.extend(_pairs(run))
    return Phrase(tuple(toks), prefix) if toks else None


def parse_search(q: str) -> list[Phrase]:
    """Phrases that must all match: one per word (split at spaces and punctuation), one per quote.

    Duplicates are dropped; an empty list means nothing in the query can be searched for.
    """
    phrases: list[Phrase] = []
    for m in _QUOTED.finditer(q):
        quoted = m[1] if m[1] is not None else m[2]
        if quoted is not None:
            found = [_phrase(_runs(quoted))]
        else:
            found = [_phrase(word) for word in _words(m[3])]
        phrases.extend(p for p in found if p is not None and p not in phrases)
    return phrases


def fts5_query(phrases: Sequence[Phrase]) -> str:
    """An FTS5 MATCH expression: `"乡村 村振 振兴" AND "第 3 次" *`. Tokens hold no quotes."""
    return " AND ".join(f'"{" ".join(p.tokens)}"' + (" *" if p.prefix else "") for p in phrases)


def tsquery(phrases: Sequence[Phrase]) -> str:
    """A tsquery literal: `('乡村' <-> '村振' <-> '振兴') & ('第' <-> '3' <-> '次':*)`."""
    parts = []
    for p in phrases:
        lexemes = [_lexeme(t) for t in p.tokens]
        if p.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def tsvector(toks: Sequence[str]) -> str:
    """A tsvector literal with 1-based positions, e.g. `'临沂':1 '沂':2`."""
    positions: dict[str, list[int]] = {}
    for pos, tok in enumerate(toks, start=1):
        found = positions.get(tok)
        if found is None:
            positions[tok] = [pos]
        elif len(found) < MAX_POSITIONS:
            found.append(pos)
    # Index tokens are letters and digits only; a quote or backslash takes the slow path.
    plain = not any("'" in t or "\\" in t for t in positions)
    return " ".join(
        f"'{t}':{','.join(map(str, ps))}" if plain else f"{_lexeme(t)}:{','.join(map(str, ps))}"
        for t, ps in positions.items()
    )


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# ---------------------------------------------------------------- the index


def index_entries(conn: Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Write (entry id, terms) into the index, replacing what an entry had; terms are
    `normalise.terms.terms` of its title and text (`entry_terms` of an Article)."""
    values = list(rows)
    if not values:
        return
    if conn.dialect.name == "sqlite":
        ids = [eid for eid, _ in values]
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH]
            conn.execute(_FTS.delete().where(_FTS.c.rowid.in_(part)))
        bulk.insert(conn, _FTS, ("rowid", "terms"), values)
        return
    bulk.insert(
        conn,
        ENTRY_SEARCH,
        ("entry_id", "terms"),
        [(eid, tsvector(t.split(" ") if t else [])) for eid, t in values],
        on_conflict="(entry_id) DO UPDATE SET terms = EXCLUDED.terms",
    )


def entry_terms(title: str | None, text: str | None, precomputed: str | None = None) -> str:
    """An entry's index terms: those the parser process computed, else computed here."""
    return precomputed if precomputed is not None else terms(title or "", text or "")


def matching_entries(dialect: str, phrases: Sequence[Phrase]) -> Any:
    """A SELECT of the ids of entries matching every phrase, answered by the index."""
    if dialect == "sqlite":
        match = literal_column(TABLE_ENTRY_SEARCH).op("MATCH")(fts5_query(phrases))
        return select(_FTS.c.rowid).where(match)
    terms = ENTRY_SEARCH.c.terms
    return select(ENTRY_SEARCH.c.entry_id).where(
        terms.bool_op("@@")(cast(tsquery(phrases), TSQUERY))
    )


def matching_stories(dialect: str, phrases: Sequence[Phrase]) -> Any:
    """A SELECT of the ids of stories with a copy matching every phrase."""
    return select(E.story_id).where(E.id.in_(matching_entries(dialect, phrases)))

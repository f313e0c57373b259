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
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, cast, column, literal_column, select, table
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.dialects.postgresql import insert as pg_insert

from aggregator.store.tables import ENTRIES, ENTRY_SEARCH, TABLE_ENTRY_SEARCH

# PostgreSQL keeps positions up to 16383 and 256 per lexeme; the same cap on both
# databases keeps their answers alike. News articles are far shorter than this.
MAX_TOKENS = 16000
MAX_POSITIONS = 255
BATCH = 500

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(f"([{_CJK}]+)|((?:(?![{_CJK}])[^\\W_])+)")
_QUOTED = re.compile(r'"([^"]*)"?|“([^”]*)”?|(\S+)')

_FTS = table(TABLE_ENTRY_SEARCH, column("rowid"), column("terms"))
E = ENTRIES.c


@dataclass(frozen=True, slots=True)
class Phrase:
    """Tokens that must stand in this order, one after another; the last may be a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def _runs(value: str) -> list[tuple[bool, str]]:
    """(is_cjk, run) pieces of NFKC-normalised, case-folded text; separators dropped."""
    return [(bool(m[1]), m[0]) for m in _RUN.finditer(_fold(value))]


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


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


def _pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(value: str) -> Iterator[str]:
    """Index tokens of a text: CJK runs as pairs plus their last character, other words whole."""
    for cjk, run in _runs(value):
        if cjk:
            yield from _pairs(run)
            yield run[-1]
        else:
            yield run


def index_tokens(title: str, body: str) -> list[str]:
    """The tokens stored for one entry: its title, then its text, capped at MAX_TOKENS."""
    out: list[str] = []
    for part in (title, body):
        for tok in tokens(part):
            out.append(tok)
            if len(out) >= MAX_TOKENS:
                return out
    return out


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
        found = positions.setdefault(tok, [])
        if len(found) < MAX_POSITIONS:
            found.append(pos)
    return " ".join(f"{_lexeme(t)}:{','.join(map(str, ps))}" for t, ps in positions.items())


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# ---------------------------------------------------------------- the index


def index_entries(conn: Connection, rows: Iterable[tuple[int, str, str]]) -> None:
    """Write (entry id, title, text) into the index, replacing what an entry had."""
    values = [(eid, index_tokens(title or "", body or "")) for eid, title, body in rows]
    if not values:
        return
    if conn.dialect.name == "sqlite":
        ids = [eid for eid, _ in values]
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH]
            conn.execute(_FTS.delete().where(_FTS.c.rowid.in_(part)))
        conn.execute(
            _FTS.insert().values(rowid=bindparam("eid"), terms=bindparam("terms")),
            [{"eid": eid, "terms": " ".join(toks)} for eid, toks in values],
        )
        return
    stmt = pg_insert(ENTRY_SEARCH).values(
        entry_id=bindparam("eid"), terms=cast(bindparam("terms"), TSVECTOR)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ENTRY_SEARCH.c.entry_id], set_={"terms": stmt.excluded.terms}
    )
    conn.execute(stmt, [{"eid": eid, "terms": tsvector(toks)} for eid, toks in values])


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

"""Decide a document's text encoding from its raw bytes. PURE.

feedparser falls back to windows-1252 when a GBK document is mislabelled and stores
garbage without an error, so the decision is ours: BOM, then the XML declaration or
`<meta charset>`, then the HTTP header, then detection. GB2312 and GBK are read as
GB18030, their superset, so no character is lost.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)

# Labels that name a subset of a wider encoding we can always use instead.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "iso-8859-1": "windows-1252",
    "iso8859-1": "windows-1252",  # Python's own name for latin-1, whatever the label
    "latin-1": "windows-1252",
    "latin1": "windows-1252",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
}


def canonical_encoding(label: str | None) -> str | None:
    """A Python codec name for an encoding label, widened to its superset; None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return codecs.lookup(_SUPERSETS.get(name, name)).name


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the codec actually used
    declared: str | None  # what the document or header said, canonicalised
    suspect: bool = False  # the declaration lied, or detection had to guess
    note: str = ""


def declared_in_document(data: bytes, *, html: bool = False) -> str | None:
    """The encoding named by the XML declaration, or by `<meta charset>` anywhere in a page."""
    head = data[:1024].lstrip()
    if head.startswith(b"<?xml"):
        m = _XML_DECL.match(head)
        if m:
            return m.group(1).decode("ascii")
    if html:
        # The meta tag is often past the first 1024 bytes on county portals.
        m = _META_CHARSET.search(data[:65536])
        if m:
            return m.group(1).decode("ascii")
    return None


def decode(data: bytes, header_charset: str | None = None, *, html: bool = False) -> Decoded:
    """Turn bytes into text, trying the stated encodings before guessing."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(name, "replace"), name, name)

    in_doc = canonical_encoding(declared_in_document(data, html=html))
    in_header = canonical_encoding(header_charset)
    declared = in_doc or in_header
    candidates: list[str] = []
    for enc in (in_doc, in_header):
        if enc and enc not in candidates and not enc.startswith("utf-16"):
            candidates.append(enc)
    if not candidates:
        candidates.append("utf-8")

    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            if not _cut_mid_character(exc, len(data)):
                continue
            # A truncated download ends inside a character: that is not a lying label.
            text = data[: exc.start].decode(enc, "replace")
        except LookupError:
            continue
        # A single-byte codec decodes anything: only trust it if UTF-8 does not fit better.
        if enc == "cp1252" and _is_utf8(data) and not data.isascii():
            return Decoded(
                data.decode("utf-8"),
                "utf-8",
                declared,
                True,
                "declared windows-1252, bytes are UTF-8",
            )
        return Decoded(text, enc, declared)

    guessed = _detect(data)
    note = f"declared {declared or 'nothing'}, bytes do not decode as it; read as {guessed}"
    return Decoded(data.decode(guessed, "replace"), guessed, declared, True, note)


def _cut_mid_character(exc: UnicodeDecodeError, size: int) -> bool:
    """The only bad bytes are an incomplete character at the very end."""
    return exc.end == size and size - exc.start <= 3


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes) -> str:
    """Guess an encoding; Chinese sources make GB18030 the likeliest wrong-label case."""
    for candidate in ("utf-8", "gb18030"):
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return canonical_encoding(best.encoding if best else None) or "utf-8"

"""Fingerprints of Chinese news articles for finding syndicated copies. PURE.

A reprint (转载) of a story differs from the original in ways that say nothing about
the story: full-width characters, bracket tags (【图】), punctuation and spaces, credit
lines (来源, 记者, 通讯员, 责任编辑 …), a shortened title, another picture. `normal_body`
takes those out, and what is left is cut into overlapping character 3-grams (shingles):
Chinese has no spaces, so word tokenising by whitespace would see one giant word.

The shingles of the body go through MinHash (64 permutations: datasketch 2's affine32
scheme, computed with numpy) and the signature is cut into 16 bands of 4 values; each
band becomes one 63-bit lookup key.
Two bodies share at least one band key with probability 1-(1-J⁴)¹⁶: 0.99 at Jaccard
similarity 0.7, 0.64 at 0.5, and 0.0016 at 0.1, so copies find each other and
unrelated articles rarely do. Two more keys cover what MinHash cannot: the normalised
title (a copy that only has a summary while the other has the whole body) and the
first characters of the body (a summary is usually the body's lead). Keys only find
candidates; `normalise.dedupe.judge` decides.

MinHash rather than SimHash: a SimHash of a short text (a 60-character summary) is
dominated by a few shingles, and SimHash offers no tunable trade-off between the
similarity that must be found and the candidates that come with it; banding does.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from aggregator.model import Fingerprint
from aggregator.normalise.identity import normal_title

__all__ = ["Fingerprint", "fingerprint", "normalised"]

SHINGLE = 3  # characters per body shingle
TITLE_SHINGLE = 2  # titles are short: bigrams
NUM_PERM = 64
BANDS, ROWS = 16, 4  # BANDS * ROWS == NUM_PERM
SEED = 20241127  # fixed: stored keys must be computed the same way by every process
LEAD_CHARS = 24  # characters of the body's start that make the lead key
MIN_TITLE_KEY = 5  # shorter titles (通知) would gather every namesake as a candidate
MAX_BODY = 4000  # characters of a body that are fingerprinted and compared
MIN_BODY_SHINGLES = 20  # fewer: the body (a one-line summary) is too short to judge by
_VERSION = b"fp1"  # changes when keys are computed differently, so old keys match nothing

# Credits and page furniture that differ between copies of one story. NFKC runs first,
# so full-width colons, slashes and brackets are already ASCII here.
_LABELS = (
    "来源|稿源|来自|转载自|转自|出处|作者|本报记者|见习记者|实习记者|特约记者|记者|通讯员|"
    "实习生|责任编辑|责编|值班编辑|编辑|主编|审核|审校|审签|校对|终审|初审|复审|摄影|摄像|供图"
)
_CREDIT = re.compile(rf"(?:{_LABELS})\s*[:/]\s*[^\s,，。;；)\]】]{{0,30}}")
# Page furniture: time labels (their stamps go by _STAMP) and counters with their count.
_FURNITURE = re.compile(
    r"(?:发布时间|发布日期|发稿时间|更新时间|字号)\s*:|(?:浏览次数|阅读次数|阅读量|点击数|点击量)\s*:\s*\d*"
)
_SHORT_CREDIT = re.compile(r"(?:^|(?<=[\s(\[【]))(?:文|图|摄)\s*[:/]\s*[^\s,，。;；)\]】]{0,12}")
_BRACKET_CREDIT = re.compile(
    r"[(\[【][^()\[\]【】\n]{0,40}?(?:记者|通讯员|摄|编辑|来源|实习生|供图)"
    r"[^()\[\]【】\n]{0,40}?[)\]】]"
)
_BYLINE = re.compile(r"(?:记者|通讯员)(?:\s+[\u4e00-\u9fff]{2,4})+(?:\s*(?:报道|摄))?")
_NEWS_DESK = re.compile(r"(?:本报|本台|本网|本刊|新华社)讯")
_LEADING_TAG = re.compile(r"^\s*【[^】\n]{1,20}】")  # 【平邑县融媒体中心】 before the text
_ORIGINAL_TITLE = re.compile(r"原标题\s*:[^\n]*")
_STAMP = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_NOISE = re.compile(r"[\W_]+")


def normal_body(text: str) -> str:
    """The body with width, case, credit lines, time stamps, punctuation and spaces removed."""
    text = unicodedata.normalize("NFKC", text[: MAX_BODY * 2])
    for pattern in (
        _LEADING_TAG,
        _ORIGINAL_TITLE,
        _STAMP,
        _BRACKET_CREDIT,
        _CREDIT,
        _FURNITURE,
        _SHORT_CREDIT,
        _BYLINE,
        _NEWS_DESK,
    ):
        text = pattern.sub(" ", text)
    return _NOISE.sub("", text).casefold()[:MAX_BODY]


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """Overlapping character n-grams; a text shorter than n is its own single shingle."""
    if len(text) <= size:
        return {text} if text else set()
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def _key(kind: bytes, *parts: bytes) -> int:
    h = hashlib.blake2b(_VERSION + kind, digest_size=8)
    for part in parts:
        h.update(part)
    return int.from_bytes(h.digest(), "big") >> 1  # fits a signed BIGINT


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine permutations h -> a*h + b (mod 2^32) of datasketch 2's "affine32" MinHash
    for this seed, drawn the same way, so stored keys stay valid: datasketch itself imports
    scipy (50 MB in every process) for what is six lines of numpy."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_A, _B = _permutations()


def _fast_sha1() -> Callable[[bytes], Any]:
    """CPython's own SHA-1: for a shingle's 9 bytes it beats OpenSSL's set-up cost per call."""
    try:
        return getattr(importlib.import_module("_sha1"), "sha1", hashlib.sha1)
    except ImportError:  # other interpreters
        return hashlib.sha1


_sha1 = _fast_sha1()


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer: spreads the input hashes before the affine permutations."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    mixed: np.ndarray = hv ^ (hv >> np.uint32(16))
    return mixed


def signature(grams: Iterable[str]) -> tuple[int, ...]:
    """The MinHash signature of a set of shingles (SHA-1's first 4 bytes, little-endian,
    per shingle; the minimum over shingles of each permutation)."""
    packed = b"".join([_sha1(g.encode("utf-8")).digest()[:4] for g in grams])
    if not packed:
        return (0xFFFFFFFF,) * NUM_PERM
    hv = _fmix32(np.frombuffer(packed, dtype="<u4").astype(np.uint32).reshape(-1, 1))
    return tuple((hv * _A + _B).min(axis=0).tolist())


def band_keys(body: str) -> tuple[int, ...]:
    """One key per MinHash band of a normalised body; none for a body too short to judge."""
    grams = shingles(body)
    if len(grams) < MIN_BODY_SHINGLES:
        return ()
    sig = signature(grams)
    return tuple(
        _key(
            b"b%d" % band,
            b"".join(v.to_bytes(4, "big") for v in sig[band * ROWS : (band + 1) * ROWS]),
        )
        for band in range(BANDS)
    )


def normalised(title: str, text: str) -> Fingerprint:
    """Title and body normalised for comparing, without lookup keys (cheaper)."""
    return Fingerprint(normal_title(title), normal_body(text), ())


def fingerprint(title: str, text: str) -> Fingerprint:
    """Normalise an article and compute its lookup keys."""
    t = normal_title(title)
    body = normal_body(text)
    keys = list(band_keys(body))
    if len(t) >= MIN_TITLE_KEY:
        keys.append(_key(b"t", t.encode("utf-8")))
    if len(body) >= LEAD_CHARS:
        keys.append(_key(b"l", body[:LEAD_CHARS].encode("utf-8")))
    return Fingerprint(t, body, tuple(dict.fromkeys(keys)))

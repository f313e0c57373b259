"""parse.encoding: which codec reads a document, and when the label lied."""

from __future__ import annotations

import codecs

import pytest

from aggregator.parse.encoding import canonical_encoding, declared_in_document, decode

# 镕 and 喆 are in GBK/GB18030 but not in GB2312.
TEXT = "沂水县镕盛新材料项目签约 记者 刘喆"


def xml(encoding: str, body: bytes) -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n<rss>'.encode("ascii") + body + b"</rss>"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_bom_decides_and_is_removed(bom, codec):
    doc = decode(bom + TEXT.encode(codec), "gbk")  # a BOM beats the header
    assert doc.text == TEXT
    assert doc.encoding == codec
    assert not doc.suspect


@pytest.mark.parametrize("label", ["gbk", "gb2312", "GB2312", "cp936", "x-gbk", "euc-cn"])
def test_chinese_labels_read_as_gb18030(label):
    doc = decode(xml(label, TEXT.encode("gbk")))
    assert TEXT in doc.text  # 镕 and 喆 survive a gb2312 label
    assert doc.encoding == "gb18030"
    assert doc.declared == "gb18030"
    assert not doc.suspect


def test_gb2312_header_charset_read_as_gb18030():
    doc = decode(b"<rss>" + TEXT.encode("gbk") + b"</rss>", "gb2312")
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"


def test_document_declaration_beats_http_charset():
    doc = decode(xml("gbk", TEXT.encode("gbk")), "utf-8")
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"
    assert doc.declared == "gb18030"


def test_http_charset_used_when_document_declares_nothing():
    doc = decode(b"<rss>" + TEXT.encode("gbk") + b"</rss>", "GBK")
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"
    assert not doc.suspect


def test_http_charset_rescues_a_wrong_declaration():
    doc = decode(xml("utf-8", TEXT.encode("gbk")), "gbk")
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"


@pytest.mark.parametrize("header", [None, "utf-8"])
def test_declared_utf8_but_gbk_bytes_is_suspect(header):
    doc = decode(xml("utf-8", TEXT.encode("gbk")), header)
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"
    assert doc.declared == "utf-8"
    assert doc.suspect
    assert "utf-8" in doc.note


@pytest.mark.parametrize("label", ["windows-1252", "iso-8859-1", "ISO8859-1", "latin1", "l1"])
@pytest.mark.parametrize("text", [TEXT, "Café “Zürich” – naïve", "Café Zürich naïve"])
def test_single_byte_label_on_utf8_bytes_reads_utf8(label, text):
    doc = decode(xml(label, text.encode("utf-8")))
    assert text in doc.text
    assert doc.encoding == "utf-8"
    assert doc.declared == "cp1252"
    assert doc.suspect


def test_single_byte_label_on_single_byte_bytes_is_trusted():
    text = "Café “Zürich”"
    doc = decode(xml("iso-8859-1", text.encode("cp1252")))
    assert text in doc.text  # read as windows-1252, the superset: the quotes survive
    assert doc.encoding == "cp1252"
    assert not doc.suspect


def test_header_latin1_on_utf8_bytes_reads_utf8():
    doc = decode(b"<rss>" + TEXT.encode() + b"</rss>", "ISO-8859-1")
    assert TEXT in doc.text
    assert doc.suspect


def _page(meta: bytes, padding: int = 2000) -> bytes:
    return (
        b"<!DOCTYPE html><html><head><!-- "
        + b"x" * padding
        + b" -->"
        + meta
        + b"</head><body>"
        + TEXT.encode("gbk")
        + b"</body></html>"
    )


@pytest.mark.parametrize(
    "meta",
    [
        b'<meta charset="gb2312">',
        b"<meta charset=gbk>",
        b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
    ],
)
def test_meta_charset_past_1024_bytes_for_html(meta):
    page = _page(meta)
    assert page.index(b"<meta") > 1024
    assert declared_in_document(page, html=True) is not None
    doc = decode(page, html=True)
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"
    assert not doc.suspect


def test_meta_charset_ignored_for_feeds():
    page = _page(b'<meta charset="gbk">')
    assert declared_in_document(page) is None
    doc = decode(page)
    assert TEXT in doc.text  # detection still gets there, but had to guess
    assert doc.suspect


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (xml("x-no-such-encoding", TEXT.encode()), None),
        (b"<rss>" + TEXT.encode() + b"</rss>", "bogus"),
    ],
)
def test_unknown_label_falls_back_to_utf8(data, header):
    doc = decode(data, header)
    assert TEXT in doc.text
    assert doc.encoding == "utf-8"
    assert doc.declared is None


def test_unknown_label_on_gbk_bytes_is_detected():
    doc = decode(b"<rss>" + TEXT.encode("gbk") + b"</rss>", "bogus")
    assert TEXT in doc.text
    assert doc.encoding == "gb18030"
    assert doc.suspect


@pytest.mark.parametrize("header", [None, "utf-8", "gbk"])
def test_empty_bytes(header):
    doc = decode(b"", header)
    assert doc.text == ""
    assert not doc.suspect


def test_no_label_utf8():
    doc = decode(b"<rss>" + TEXT.encode() + b"</rss>")
    assert TEXT in doc.text
    assert doc.encoding == "utf-8"
    assert doc.declared is None
    assert not doc.suspect


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("GBK", "gb18030"),
        ("gb2312", "gb18030"),
        (" 'GB2312' ", "gb18030"),
        ("UTF8", "utf-8"),
        ("us-ascii", "utf-8"),
        ("latin-1", "cp1252"),
        ("iso_8859_1", "cp1252"),
        ("windows-1252", "cp1252"),
        ("big5", "big5hkscs"),
        ("hz-gb-2312", "hz"),  # 7-bit HZ is not a subset of GB18030's bytes
        ("no-such-thing", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_encoding(label, expected):
    assert canonical_encoding(label) == expected


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_a_download_cut_inside_a_character_is_not_a_lying_label(codec):
    text = f'<?xml version="1.0" encoding="{codec}"?><rss><title>费县新闻'
    data = text.encode(codec)[:-1]  # the last character loses a byte
    out = decode(data)
    assert (out.encoding, out.suspect) == (codecs.lookup(codec).name, False)
    assert out.text.endswith("费县新")

"""Hostile XML: entity expansion and external entities are refused, never expanded."""

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.model import PollStatus, Source
from aggregator.normalise import Context
from aggregator.poller.work import Job, digest_document

SOURCE = Source(id="s", url="http://example.cn/rss.xml", region="r")
NOW = datetime(2026, 11, 27, tzinfo=UTC)

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<rss version="2.0"><channel><title>t</title>
<item><title>&lol2;</title><link>http://example.cn/1.html</link></item></channel></rss>"""


def run(body: bytes):
    return digest_document(Job(body, SOURCE.url, None, SOURCE, Context("Asia/Shanghai"), NOW))


def test_billion_laughs_is_refused() -> None:
    out = run(LAUGHS)
    assert out.status is PollStatus.PARSE_ERROR and "entity" in out.message
    assert out.articles == ()


def test_external_entity_is_refused_and_the_file_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doc = f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>t</title><item><title>&x;</title>
<link>http://example.cn/1.html</link></item></channel></rss>""".encode()
    out = run(doc)
    assert out.status is PollStatus.PARSE_ERROR and "XXE" in out.message
    assert "TOP-SECRET" not in repr(out)


def test_a_plain_character_entity_declaration_is_fine() -> None:
    doc = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;">]>
<rss version="2.0"><channel><title>t</title><item><title>A&nbsp;B</title>
<link>http://example.cn/1.html</link></item></channel></rss>"""
    out = run(doc)
    assert out.status is PollStatus.OK
    assert [a.title for a in out.articles] == ["A B"]

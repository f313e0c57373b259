"""An article page → its main body and the facts printed around it. PURE.

County portals put the body in a table cell or a div among navigation, a 来源/date/
reporter line, share and print tools, 责任编辑, previous/next links and 相关新闻,
热点排行 and 频道推荐 lists. General-purpose extractors (trafilatura, readability) keep
some of that on such pages, so this is a small extractor of our own on selectolax:

1. the body container is `fulltext_selector` when the source sets one, else the element
   whose paragraphs score best: prose scores by its length and its Chinese punctuation
   (，。；), lists of links score nothing, and a container loses what its links weigh;
2. inside it, short lines that are page furniture (打印, 关闭, 分享到, 责任编辑：…,
   上一篇, 相关新闻 …), blocks that are mostly links, forms and scripts are removed;
3. 来源, author and date are read from the page's meta tags and from the text between the
   headline and the body (the info line), then from the body's first and last lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from aggregator.errors import ParseError
from aggregator.parse.encoding import Decoded
from aggregator.parse.html import read_page

MIN_BODY_CHARS = 20  # less than this after cleaning is not an article
LINE_CHARS = 80  # blocks up to this long are checked for being page furniture
CANDIDATES = 30  # best-scoring containers weighed for their links
CLEAN_DEPTH = 20  # how far below the body's element furniture is looked for

_DROP = (
    "script, style, noscript, template, iframe, object, embed, form, button, select, "
    "textarea, input, nav, header, footer, aside, svg"
)
_PARAGRAPHS = {"p", "pre", "blockquote"}
_CONTAINERS = {"div", "td", "article", "section", "main", "center", "font", "span", "dd"}
_LISTS_AND_HEADINGS = {"table", "tbody", "tr", "ul", "ol", "li", "dl", "dt", "figure",
                       "figcaption", "h1", "h2", "h3", "h4", "h5", "h6"}  # fmt: skip
_BLOCKS = _PARAGRAPHS | _CONTAINERS | _LISTS_AND_HEADINGS
_NOT_PROSE = {"a", "li", "dt", "option", "label", "h1", "h2", "h3", "h4", "h5", "h6"}
_PUNCT = re.compile(r"[，。；！？、,;]")
_SPACE = re.compile(r"[\s\u3000\u00a0]+")

# A short line that is page furniture: a labelled field, or only tool words.
_LABELLED = re.compile(
    r"^(?:责任编辑|编辑|审核|审校|校对|终审|初审|值班编辑|来源|稿源|作者|发布时间|发布日期|"
    r"发表时间|更新时间|浏览次数|阅读次数|浏览量|阅读量|点击数|点击量|点击|访问量|字体|字号|"
    r"上一篇|下一篇|上一条|下一条|分享到|扫一扫)"
)
_TOOL_WORDS = re.compile(
    r"^(?:打印(?:本页|此页|文章)?|关闭(?:窗口|本页)?|分享|收藏(?:本页)?|返回(?:顶部|首页|列表)?|"
    r"顶部|字体|大|中|小|默认|纠错|我要纠错|相关(?:新闻|阅读|文章|链接|报道)|热点(?:排行|新闻|阅读)|"
    r"热门(?:文章|新闻)|频道推荐|推荐阅读|新闻推荐|图片新闻|评论|网友评论|发表评论)+$"
)
_FURNITURE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:share|bdshare|print|tools?|related|xgxw|xgwz|hot|rank|recommend|tuijian|"
    r"comments?|prev|next|prenext|pager?|pagination|crumbs?|breadcrumb|position|location|dqwz|"
    r"footer|nav|menu|sidebar|editor-name|bianji|zrbj)(?:$|[\s_-])",
    re.I,
)

_DATE = re.compile(
    r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2})?\s*[分秒]?)?)"
)
# A "来源：…" credit line naming the publisher; normalise.text reads summaries with it too.
ORIGIN_LINE = re.compile(
    r"(?:来源|来自|稿源|转载自|转自)\s*[:：]\s*([^\s\u3000<>|｜,，。;；)）]{2,30})"
)
_AUTHOR_FIELD = re.compile(
    r"作者\s*[:：]\s*([^\s\u3000|｜:：]{1,20}(?: [^\s\u3000|｜:：]{1,10}(?=\s|$))?)"
)
_NAME = r"(?!报道|摄影|通讯|记者)[\u4e00-\u9fa5·]{2,4}(?=[\s、，,）)\]】|｜]|$)"
_CREDIT = re.compile(
    rf"((?:(?:特约记者|见习记者|实习生|记者|通讯员|摄影|摄)(?:\s*[:：]\s*|\s*){_NAME}"
    rf"(?:[ 、，,]{_NAME})*\s*)+)"
)
_DATE_META = (
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "firstpublishedtime",
    "article:published_time",
    "og:release_date",
    "datepublished",
)
_ORIGIN_META = ("contentsource", "source", "og:article:source")


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """What an article page says, as written (the body is not sanitised yet)."""

    body: str  # HTML of the main body
    base: str  # what the body's relative links resolve against
    title: str | None = None
    author: str | None = None
    origin: str | None = None  # the publisher named by a 来源 line
    published_raw: str | None = None  # the date as printed on the page
    canonical: str | None = None  # <link rel="canonical">, absolute
    method: str = "auto"  # "selector" or "auto"
    warnings: tuple[str, ...] = ()


def extract_article(doc: Decoded, url: str, selector: str | None = None) -> ArticlePage:
    """The body and facts of one article page; ParseError when it has no readable body."""
    tree, base = read_page(doc, url)
    meta = _meta(tree)
    canonical = _canonical(tree, base)
    title = _title(tree, meta)
    for node in tree.css(_DROP):
        node.decompose()
    root = tree.body
    if root is None:
        raise ParseError("the page has no body")

    warnings: list[str] = []
    container = None
    method = "auto"
    if selector:
        container = root.css_first(selector)
        if container is not None:
            method = "selector"
        else:
            warnings.append(
                f"fulltext_selector {selector!r} matched nothing; the body was found automatically"
            )
    if container is None:
        container = _best_container(root)
    if container is None:
        raise ParseError("no article body found on the page")

    before = _text_before(root, container, title)
    inside = _text(container)
    origin = meta_value(meta, _ORIGIN_META) or _first(ORIGIN_LINE, before, _ends(inside))
    date = meta_value(meta, _DATE_META)
    if not date or not _DATE.search(date):
        date = _first(_DATE, before, inside[:200])
    author = _author(before) or _author(_ends(inside))

    _clean(container, title)
    body = container.inner_html or ""
    if len(_SPACE.sub("", _text(container))) < MIN_BODY_CHARS:
        raise ParseError("no article text found on the page")
    return ArticlePage(
        body=body,
        base=base,
        title=title,
        author=author,
        origin=origin,
        published_raw=date,
        canonical=canonical,
        method=method,
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------ the body


def _best_container(root: LexborNode) -> LexborNode | None:
    """The element whose paragraphs score best, discounted by how much of it is links."""
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}

    def add(node: LexborNode | None, points: float) -> None:
        if node is None or node.tag not in _CONTAINERS:
            return
        nodes[node.mem_id] = node
        scores[node.mem_id] = scores.get(node.mem_id, 0.0) + points

    for node in root.traverse():
        tag = node.tag
        if tag in _PARAGRAPHS:
            text, links = _text(node), _link_chars(node)
        elif tag in _CONTAINERS:
            text, links = _own_text(node)
        else:
            continue
        compact = _SPACE.sub("", text)
        if len(compact) < 10 or links * 2 > len(compact) or _inside(node, _NOT_PROSE):
            continue
        points = 1 + len(_PUNCT.findall(compact)) + min(len(compact) / 100, 3)
        if tag in _PARAGRAPHS:
            parent = node.parent
            add(parent, points)
            add(parent.parent if parent is not None else None, points / 2)
        else:
            add(node, points)
            add(node.parent, points / 2)

    best: LexborNode | None = None
    best_score = 0.0
    # link density costs a walk of the subtree: only for the strongest candidates
    for key, score in sorted(scores.items(), key=lambda kv: -kv[1])[:CANDIDATES]:
        node = nodes[key]
        total = len(_SPACE.sub("", _text(node))) or 1
        score *= 1 - min(_link_chars(node) / total, 1.0)
        if score > best_score:
            best, best_score = node, score
    return best if best_score >= 2 else None


def _clean(container: LexborNode, title: str | None) -> None:
    """Remove page furniture inside the chosen body, top down."""
    stack = [(container, 0)]
    while stack:
        node, depth = stack.pop()
        for child in list(node.iter()):
            if _is_furniture(child, title):
                child.decompose()
            elif depth < CLEAN_DEPTH:
                stack.append((child, depth + 1))


def _is_furniture(node: LexborNode, title: str | None) -> bool:
    tag = node.tag
    if tag not in _BLOCKS and tag not in ("a", "em", "strong", "b", "i", "small"):
        return False
    text = _text(node)
    compact = _SPACE.sub("", text)
    has_media = node.css_first("img, video, audio") is not None
    if not compact:
        return False
    marks = (node.attributes.get("class") or "") + " " + (node.attributes.get("id") or "")
    if _FURNITURE_CLASS.search(marks) and not has_media and len(compact) <= 400:
        return True
    if tag in ("h1", "h2", "h3") and title and compact in _SPACE.sub("", title):
        return True
    if len(compact) <= LINE_CHARS and not has_media:
        stripped = re.sub(r"[\[\]【】()（）<>《》|｜/:：·\-—]", "", compact)
        if _LABELLED.match(stripped) or _TOOL_WORDS.match(stripped):
            return True
    links = node.css("a")
    return (
        tag not in ("a", "p")
        and len(links) >= 2
        and _link_chars(node) * 2 > len(compact)
        and not has_media
    )


# ------------------------------------------------------------------ the facts


def _meta(tree: LexborHTMLParser) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        name = node.attributes.get("name") or node.attributes.get("property") or ""
        content = (node.attributes.get("content") or "").strip()
        if name and content:
            out.setdefault(name.strip().lower(), content)
    return out


def meta_value(meta: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((meta[n] for n in names if meta.get(n)), None)


def _canonical(tree: LexborHTMLParser, base: str) -> str | None:
    for node in tree.css("link[href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        href = (node.attributes.get("href") or "").strip()
        if "canonical" in rel and href:
            url = urljoin(base, href)
            return url if url.startswith(("http://", "https://")) else None
    return None


def _title(tree: LexborHTMLParser, meta: dict[str, str]) -> str | None:
    for key in ("articletitle", "og:title"):
        if meta.get(key):
            return meta[key]
    h1 = tree.css_first("h1")
    if h1 is not None and _text(h1):
        return _text(h1)
    node = tree.css_first("title")
    if node is None:
        return None
    whole = _text(node)
    return re.split(r"\s*[_|｜]\s*|\s+-\s+", whole)[0] or whole or None


def _text_before(root: LexborNode, container: LexborNode, title: str | None) -> str:
    """Text between the headline (when found) and the body: where the info line is."""
    parts: list[str] = []
    for node in root.traverse(include_text=True):
        if node == container:
            break
        if node.tag == "-text":
            value = (node.text_content or "").strip()
            if value:
                parts.append(value)
    text = "\n".join(parts)
    if title:
        at = text.rfind(title)
        if at >= 0:
            return text[at + len(title) :][:600]
    return text[-400:]


def _ends(text: str) -> str:
    return text[:160] + "\n" + text[-160:]


def _first(pattern: re.Pattern[str], *texts: str) -> str | None:
    for text in texts:
        m = pattern.search(text)
        if m:
            return _SPACE.sub(" ", m.group(1)).strip()
    return None


def _author(text: str) -> str | None:
    m = _AUTHOR_FIELD.search(text)
    if m:
        return m.group(1).strip()
    m = _CREDIT.search(text)
    if m:
        return _SPACE.sub(" ", m.group(1)).strip()
    return None


# ------------------------------------------------------------------ helpers


def _text(node: LexborNode) -> str:
    return node.text(deep=True, separator="\n", strip=True)


def _own_text(node: LexborNode) -> tuple[str, int]:
    """Text directly in an element or in its inline children (br-separated bodies), and
    how many of its characters are link text."""
    parts: list[str] = []
    links = 0
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag in ("span", "strong", "b", "font", "em", "i", "u", "a", "br"):
            text = child.text(deep=True)
            parts.append(text)
            if child.tag == "a":
                links += len(_SPACE.sub("", text))
    return "".join(parts), links


def _inside(node: LexborNode, tags: set[str], levels: int = 30) -> bool:
    current = node.parent
    while current is not None and levels > 0:
        if current.tag in tags:
            return True
        current, levels = current.parent, levels - 1
    return False


def _link_chars(node: LexborNode) -> int:
    return sum(len(_SPACE.sub("", a.text(deep=True))) for a in node.css("a"))

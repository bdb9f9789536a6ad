"""extract_title stops parsing at the end of the title: same answers as parsing the whole page.

The oracle is the earlier implementation (HTMLParser over the whole 64 KiB head, regex fallback
when the parser raises), compared on every page shipped with the lab and the test fixtures and
on generated pages built from the constructs that matter (comments, scripts, marked sections
that make HTMLParser raise, unclosed titles, entities).
"""

from __future__ import annotations

import random
from html import unescape
from pathlib import Path

from routerwatch.scan.probes import http

ROOT = Path(__file__).resolve().parents[2]


def whole_page_title(html: str) -> str | None:
    if "<" not in html:
        return None
    head = html[:65536]
    text = None
    parser = http._TitleParser()
    try:
        parser.feed(head)
        parser.close()
        if parser.parts or parser.done:
            text = "".join(parser.parts)
    except Exception:
        text = None
    if text is None:
        match = http._TITLE_RE.search(head)
        if match is None:
            return None
        text = unescape(match.group(1))
    text = " ".join(text.split())
    return text[: http.MAX_TITLE] or None


def shipped_pages() -> list[str]:
    pages = []
    for folder in (ROOT / "src/routerwatch/lab", ROOT / "tests/fixtures", ROOT / "tests/captures"):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 2_000_000:
                text = path.read_text(encoding="utf-8", errors="replace")
                if "<" in text:
                    pages.append(text)
    return pages


PIECES = ["<title>", "</title>", "<TITLE lang=en>", "<TiTlE>", "<!--", "-->", "<script>",
          "</script>", "&amp;", "&", "&#", "&#x4", "<", ">", "x" * 3000, "<![if x]>", "<![foo[",
          "<![CDATA[", "]]>", "<!DOCTYPE html>", "</", "<p>", "<meta charset=utf-8>", "\n", "é",
          "<title", "</title\n>", "Router &lt;Admin&gt;", "<style>", "</style>", "<?xml?>"]


def test_shipped_pages_give_the_same_title() -> None:
    pages = shipped_pages()
    assert len(pages) > 50
    for page in pages:
        assert http.extract_title(page) == whole_page_title(page)


def test_generated_pages_give_the_same_title() -> None:
    rng = random.Random(16)
    for _ in range(20000):
        page = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
        assert http.extract_title(page) == whole_page_title(page), page


def test_a_title_followed_by_a_marked_section_that_makes_the_parser_raise() -> None:
    page = "<title>A &amp; B</title><![foo[ junk"
    assert http.extract_title(page) == whole_page_title(page)

"""The HTML report: self-contained, hostile strings escaped, every section there."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from routerwatch.models import Finding, Report, replace
from routerwatch.report import render

SECTION_IDS = (
    "summary",
    "findings-by-severity",
    "devices-by-vendor",
    "top-actions",
    "devices",
    "policy",
    "kb",
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def test_sections_and_devices_are_there(report: Report) -> None:
    tags = _parse(render(report, "html")).tags
    ids = {attrs.get("id") for _, attrs in tags}
    for section in SECTION_IDS:
        assert section in ids, section
    for n in range(1, len(report.assessments) + 1):
        assert f"device-{n}" in ids
    charts = [a for t, a in tags if t == "svg" and a.get("class") == "chart"]
    assert len(charts) == 3  # severity, vendor, actions


def test_hostile_strings_are_escaped(report: Report) -> None:
    html = render(report, "html")
    parsed = _parse(html)
    assert not [t for t, _ in parsed.tags if t == "script"], "no script element at all"
    assert not [t for t, a in parsed.tags if t == "img"]
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    text = "".join(parsed.text)
    assert '<script>alert("pwned")</script>' in text, "shown as text, not run"
    # control and bidi characters are shown escaped, never raw
    assert "\x1b" not in html and "\u202e" not in html
    assert "\\x1b[2J" in text and "\\u202e" in text


def test_self_contained_and_locked_down(report: Report) -> None:
    html = render(report, "html")
    tags = _parse(html).tags
    for tag, attrs in tags:
        assert "src" not in attrs, (tag, attrs)
        assert tag not in ("link", "iframe", "object", "embed", "base", "form")
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
    csp = [a for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert "url(" not in html and "@import" not in html and "@font-face" not in html
    hrefs = [a["href"] or "" for t, a in tags if t == "a"]
    assert hrefs
    for href in hrefs:
        assert href.startswith(("#", "https://")), href
    assert "javascript:" not in " ".join(hrefs)


def test_cve_links_go_to_nvd(report: Report) -> None:
    tags = _parse(render(report, "html")).tags
    hrefs = {a["href"] for t, a in tags if t == "a"}
    for a in report.assessments:
        for f in a.findings:
            assert f"https://nvd.nist.gov/vuln/detail/{f.cve}" in hrefs


def test_malformed_cve_id_is_not_a_link(report: Report) -> None:
    odd = Finding(cve='CVE-2024-1"><b>x', status="affected", reason="r")
    a = replace(report.assessments[2], findings=(odd,))
    html = render(replace(report, assessments=(a,)), "html")
    hrefs = [x["href"] or "" for t, x in _parse(html).tags if t == "a"]
    assert not any("CVE-2024-1" in h for h in hrefs)
    assert "CVE-2024-1&#34;&gt;&lt;b&gt;x" in html


def test_policy_section_lists_replacements(report: Report) -> None:
    html = render(report, "html")
    policy = html[html.index('id="policy"') : html.index('id="kb"')]
    assert "192.168.1.1" in policy
    assert "2019-12-31" in policy
    assert "Replace the TL-WR841N v8" in policy
    assert "192.168.1.20" not in policy


def test_kb_footer_shows_freshness(report: Report) -> None:
    html = render(report, "html")
    footer = html[html.index('<footer id="kb">') :]
    assert "2026-11-20T04:00:00.000" in footer
    assert "catalog_version: 2025.08.25" in footer


@pytest.mark.parametrize("name", ["empty_report", "check_report"])
def test_other_reports_render_all_sections(name: str, request: pytest.FixtureRequest) -> None:
    ids = {a.get("id") for _, a in _parse(render(request.getfixturevalue(name), "html")).tags}
    assert set(SECTION_IDS) <= ids

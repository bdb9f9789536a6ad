"""The HTML report in a real browser (headless Chromium): it renders, sections and all.

Needs Chromium; CI installs it (tasks.py), so there a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from routerwatch.models import Report
from routerwatch.report import write

pytestmark = pytest.mark.browser

SECTION_IDS = (
    "summary",
    "findings-by-severity",
    "devices-by-vendor",
    "top-actions",
    "devices",
    "policy",
    "kb",
)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "/usr/bin/chromium"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail("headless Chromium is missing on CI (tasks.py should install it)")
    pytest.skip("Chromium not installed")


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=90, check=False)


def _png_size_and_rows(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct pixel rows of a PNG (no image library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 4
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            bpp = {2: 3, 6: 4, 0: 1, 4: 2}[color]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * bpp
    rows = {raw[i * stride + 1 : (i + 1) * stride] for i in range(height)}
    return width, height, len(rows)


def test_report_renders_in_headless_chromium(report: Report, tmp_path: Path) -> None:
    chromium = _chromium()
    page = write(report, "html", tmp_path)
    assert page is not None
    url = page.resolve().as_uri()

    dom = _run(chromium, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    html = dom.stdout.decode()
    for section in SECTION_IDS:
        assert f'id="{section}"' in html, f"section {section} missing in the rendered DOM"
    for n in range(1, len(report.assessments) + 1):
        assert f'id="device-{n}"' in html
    assert html.count('<svg class="chart"') == 3
    assert "<script" not in html, "the hostile <script> must stay text"
    assert "&lt;script&gt;alert" in html

    shot = tmp_path / "report.png"
    result = _run(
        chromium,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        url,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    width, height, distinct = _png_size_and_rows(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    # a blank or unstyled-and-empty page has few distinct rows; this one is full of content
    assert distinct > 400, f"screenshot looks empty ({distinct} distinct rows)"

"""The lab never serves its truth label: every {{vendor}}/{{model}}/{{hardware}}/{{firmware}} a
profile or its pages use must be spelled out in the profile's own vars."""

from __future__ import annotations

import re
from pathlib import Path

from routerwatch.lab.context import DeviceContext
from routerwatch.lab.profiles import load_profiles, page_text

TRUTH_VARS = re.compile(r"\{\{(vendor|model|hardware|firmware)\}\}")


LAB = Path(__file__).resolve().parents[2] / "src" / "routerwatch"


def _texts(profile_path: str) -> list[str]:
    text = (LAB / profile_path).read_text("utf-8")
    out = [text]
    for body_file in re.findall(r"body_file:\s*([\w./-]+)", text):
        out.append(page_text(body_file).decode("utf-8", "replace"))
    return out


def test_identity_is_no_template_value() -> None:
    for p in load_profiles():
        ctx = DeviceContext("127.0.0.1", p)
        assert not {"vendor", "model", "hardware", "firmware"} & (set(ctx.values) - set(p.vars))
        used = {m for t in _texts(p.path) for m in TRUTH_VARS.findall(t)}
        assert used <= set(p.vars), f"{p.id}: serves {sorted(used - set(p.vars))} from its truth"

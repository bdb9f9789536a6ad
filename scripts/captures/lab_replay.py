"""Write lab devices that replay captures of real devices (tests/captures) byte for byte.

For each selected capture the device's responses are copied into
``src/routerwatch/lab/pages/captures/<id>/`` and a profile ``lab/devices/r*-<id>.yaml`` is
written that serves them unchanged (``template: false``): the SSDP reply's SERVER header and
the description's path and port as captured, the description or page as captured. The truth
label and the fields the profile ``reveals`` come from the corpus: ``reveals`` lists the fields
routerwatch identifies from the capture itself (scripts/identification_quality.py), so the
lab end-to-end test checks that the network path (SSDP, HTTP, parsing) loses nothing.

    .venv/bin/python scripts/captures/lab_replay.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import identification_quality as quality  # noqa: E402

from routerwatch.fingerprint.engine import Fingerprinter  # noqa: E402

CAPTURES = ROOT / "tests" / "captures"
LAB = ROOT / "src" / "routerwatch" / "lab"

# (prefix for ordering, capture id, port the page is served on for http captures)
SELECTED = [
    ("r1", "aioupnp-dlink-dir-890l"),
    ("r2", "aioupnp-actiontec-gt784wn"),
    ("r3", "aioupnp-cisco-cga4131com"),
    ("r4", "fritzconnection-avm-fritzbox-7590"),
    ("r5", "gofritz-fritzbox-7530-164-08-02"),
    ("r6", "cablemodem-technicolor-tc4400"),
    ("r7", "cablemodem-motorola-mb7621"),
]


def _ssdp_server(entry: dict[str, Any]) -> str:
    for cap in entry["captures"]:
        if cap["kind"] == "ssdp":
            from routerwatch.scan.probes.upnp import parse_ssdp_response

            headers = parse_ssdp_response((CAPTURES / cap["file"]).read_bytes()) or {}
            return headers.get("server", "")
    return ""


def _profile(prefix: str, entry: dict[str, Any], reveals: list[str]) -> dict[str, Any]:
    did = entry["id"]
    src = entry["source"]
    truth = entry["truth"]
    profile: dict[str, Any] = {
        "id": f"replay-{did}",
        "summary": (
            f"Replays responses captured from a real {truth['vendor']} {truth.get('model', '')} "
            f"(tests/captures/{did}), unchanged."
        ).replace("  ", " "),
        "identity": {
            k: truth[k] for k in ("vendor", "model", "hardware", "firmware") if k in truth
        },
        "reveals": reveals,
        "sources": [
            f"capture {did}: {src['repo']} {src['path']} @ {src['commit'][:12]} ({src['licence']})"
        ],
    }
    services: list[dict[str, Any]] = []
    sites: dict[str, Any] = {}
    upnp = [c for c in entry["captures"] if c["kind"] == "upnp"]
    if upnp:
        cap = upnp[0]
        location = cap.get("location") or "http://device:49000/" + Path(cap["file"]).name
        url = urlsplit(location)
        port = url.port or 80
        path = url.path or "/"
        page = f"captures/{did}/{Path(cap['file']).name}"
        headers = [["Content-Type", "text/xml"]]
        if cap.get("server"):
            headers.insert(0, ["Server", cap["server"]])
        profile["ssdp"] = {"server": _ssdp_server(entry), "port": port, "path": path}
        services.append({"port": port, "kind": "http", "site": "upnp"})
        sites["upnp"] = {
            "routes": [{"path": path, "headers": headers, "body_file": page, "template": False}],
            "default": {"status": 404, "body": ""},
        }
    pages = [c for c in entry["captures"] if c["kind"] == "http" and c.get("body")]
    if pages:
        routes = []
        default = None
        for cap in pages:
            page = f"captures/{did}/{Path(cap['body']).name}"
            route = {
                "headers": [["Content-Type", "text/html"]],
                "body_file": page,
                "template": False,
                "status": int(cap.get("status", 200)),
            }
            # The probe plan asks for "/": a status page captured elsewhere is served there.
            served = "/" if len(pages) == 1 else cap["path"]
            routes.append({"path": served, **route})
            if served == "/":
                default = {"status": 404, "body": ""}
        services.append({"port": 80, "kind": "http", "site": "web"})
        sites["web"] = {"routes": routes, "default": default or {"status": 404, "body": ""}}
    profile["services"] = services
    profile["sites"] = sites
    return profile


def main() -> int:
    index = {d["id"]: d for d in yaml.safe_load((CAPTURES / "index.yaml").read_text())["devices"]}
    fp = Fingerprinter()
    found: dict[str, list[str]] = {}
    for _p, cid in SELECTED:
        entry = index[cid]
        # What the lab serves: the SSDP reply, the first description, the page at "/".
        upnp = [c for c in entry["captures"] if c["kind"] == "upnp"][:1]
        served = [c for c in entry["captures"] if c["kind"] == "ssdp"] + upnp
        served += [c for c in entry["captures"] if c["kind"] == "http"][:1]
        case = quality.Case(cid, entry["truth"], False, quality.observation(served, CAPTURES))
        verdicts = quality.judge(case, fp.identify(case.observation)).verdicts
        found[cid] = [k for k, v in verdicts.items() if v == "correct"]
    out_pages = LAB / "pages" / "captures"
    shutil.rmtree(out_pages, ignore_errors=True)
    for old in (LAB / "devices").glob("r[0-9]-*.yaml"):
        old.unlink()
    sources = ["# Captures replayed by the lab (written by scripts/captures/lab_replay.py)", ""]
    for prefix, cid in SELECTED:
        entry = index[cid]
        for cap in entry["captures"]:
            for key in ("file", "body"):
                if key in cap:
                    dest = out_pages / cid / Path(cap[key]).name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(CAPTURES / cap[key], dest)
        reveals = [f for f in ("vendor", "model", "hardware", "firmware") if f in found[cid]]
        profile = _profile(prefix, entry, reveals)
        text = (
            "# Written by scripts/captures/lab_replay.py from tests/captures/index.yaml.\n"
            + yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=100)
        )
        (LAB / "devices" / f"{prefix}-{cid}.yaml").write_text(text, "utf-8")
        src = entry["source"]
        sources.append(
            f"- `{cid}/`: {src['repo']} `{src['path']}` @ {src['commit']} ({src['licence']})"
        )
    (out_pages / "SOURCES.md").write_text("\n".join(sources) + "\n", "utf-8")
    print(f"{len(SELECTED)} replay devices written")
    return 0


if __name__ == "__main__":
    sys.exit(main())

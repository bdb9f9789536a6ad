"""Rebuild tests/captures/ (raw responses of real devices + index.yaml) from public sources.

Every capture is cut out of a public repository snapshot byte for byte (JSON-embedded
responses are written out as the text they hold); nothing is typed in by hand. Each device
gets a truth label taken from the source itself (the file name or test expectation of the
repository that recorded it, or the device's own words in the capture) - never from a
routerwatch rule - and the provenance (repository, path, commit, licence).

Usage::

    python3 scripts/captures/collect.py --mirrors /work/.mirror --recog /work/shared/data/recog \
        --samples /work/shared/data/samples [--out tests/captures]

``--mirrors`` holds the git snapshots fetched with the search tool's ``fetch`` (one
``owner+name/repo`` bare repository each). Recog examples are added marked ``recog: true``
(Recog is also a rule source, so the quality gate reports them apart).
"""

from __future__ import annotations

import argparse
import base64
import bz2
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass
class Device:
    id: str
    truth: dict[str, str]
    source: dict[str, str]
    captures: list[dict[str, Any]] = field(default_factory=list)
    recog: bool = False
    note: str = ""

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "truth": self.truth, "source": self.source}
        if self.recog:
            out["recog"] = True
        if self.note:
            out["note"] = self.note
        out["captures"] = self.captures
        return out


class Collector:
    def __init__(self, mirrors: Path, out: Path) -> None:
        self.mirrors = mirrors
        self.out = out
        self.devices: list[Device] = []

    def git(self, repo: str, commit: str, path: str) -> bytes:
        gitdir = self.mirrors / repo.replace("/", "+") / "repo"
        return subprocess.run(
            ["git", f"--git-dir={gitdir}", "show", f"{commit}:{path}"],
            check=True,
            capture_output=True,
        ).stdout

    def write(self, rel: str, data: bytes | str) -> str:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return rel

    def add(self, device: Device) -> None:
        if any(d.id == device.id for d in self.devices):
            raise SystemExit(f"duplicate capture id {device.id}")
        self.devices.append(device)


# --------------------------------------------------------------------------- sources

SAMPLES = [
    # (id, truth, files [(kind, file, extra)], origin repo, path prefix, commit, licence)
    (
        "fritzconnection-avm-fritzbox-7590",
        {"vendor": "AVM", "model": "FRITZ!Box 7590", "firmware": "154.07.10"},
        [
            ("upnp", "upnp/fritzconnection/igddesc.xml"),
            ("upnp", "upnp/fritzconnection/tr64desc.xml"),
        ],
        "kbr/fritzconnection",
        "fritzconnection/tests/xml/",
        "896894c56a832242e15587f0e990012273636c3a",
        "MIT",
    ),
    (
        "miniupnpc-linksys-wag200g",
        {"vendor": "Linksys", "model": "WAG200G"},
        [("upnp", "upnp/miniupnpc/linksys_WAG200G_desc.xml")],
        "miniupnp/miniupnp",
        "miniupnpc/testdesc/",
        "b91c025446d3ec3d9161cd56c91e200484af7906",
        "BSD-3-Clause",
    ),
    (
        "miniupnpc-sagemcom-livebox",
        {"vendor": "Sagemcom"},
        [("upnp", "upnp/miniupnpc/new_LiveBox_desc.xml")],
        "miniupnp/miniupnp",
        "miniupnpc/testdesc/",
        "b91c025446d3ec3d9161cd56c91e200484af7906",
        "BSD-3-Clause",
    ),
]


def collect_samples(c: Collector, samples: Path) -> None:
    """Descriptions already placed (licence checked) under shared/data/samples."""
    for did, truth, files, repo, prefix, commit, licence in SAMPLES:
        captures = []
        paths = []
        for kind, rel in files:
            name = Path(rel).name
            paths.append(prefix + name)
            dest = c.write(f"{did}/{name}", (samples / rel).read_bytes())
            captures.append({"kind": kind, "file": dest})
        note = ""
        if did.endswith("livebox"):
            note = (
                "Orange Livebox made by Sagemcom; modelName 'Residential Livebox' + modelNumber 3 "
                "do not prove which Livebox generation, so no model label."
            )
        c.add(
            Device(
                did,
                truth,
                {"repo": repo, "path": ", ".join(paths), "commit": commit, "licence": licence},
                captures,
                note=note,
            )
        )
    # NETGEAR cable gateways: saved web UI pages (sanitised by the origin repo).
    web = [
        (
            "cablemodem-netgear-c3700",
            {"vendor": "NETGEAR", "model": "C3700"},
            "c3700",
            [("root.html", "/", 401), ("index.htm", "/index.htm", 200)],
        ),
        (
            "cablemodem-netgear-cm600",
            {"vendor": "NETGEAR", "model": "CM600"},
            "cm600",
            [("index.html", "/", 200)],
        ),
    ]
    commit = "1e7ab9badb12f11d05e66014acace45760cc0f00"
    for did, truth, folder, pages in web:
        captures = []
        for name, path, status in pages:
            dest = c.write(
                f"{did}/{name}", (samples / "web" / f"netgear-{folder}" / name).read_bytes()
            )
            captures.append(
                {"kind": "http", "port": 80, "path": path, "status": status, "body": dest}
            )
        c.add(
            Device(
                did,
                truth,
                {
                    "repo": "solentlabs/cable_modem_monitor",
                    "path": f"tests/parsers/netgear/fixtures/{folder}/",
                    "commit": commit,
                    "licence": "MIT",
                },
                captures,
            )
        )


CABLE = [
    # (id, truth, files [(path in repo, served path, status)])
    (
        "cablemodem-arris-sb6141",
        {"vendor": "ARRIS", "model": "SB6141"},
        [("tests/parsers/arris/fixtures/sb6141/signal.html", "/cmSignalData.htm", 200)],
    ),
    (
        "cablemodem-arris-sb6190",
        {"vendor": "ARRIS", "model": "SB6190"},
        [("tests/parsers/arris/fixtures/sb6190/arris_sb6190.html", "/cgi-bin/status", 200)],
    ),
    (
        "cablemodem-motorola-mb7621",
        {"vendor": "Motorola", "model": "MB7621"},
        [("tests/parsers/motorola/fixtures/mb7621/login.html", "/", 200)],
    ),
    (
        "cablemodem-motorola-mb8611",
        {"vendor": "Motorola", "model": "MB8611"},
        [("tests/parsers/motorola/fixtures/mb8611_hnap/Login.html", "/", 200)],
    ),
    (
        "cablemodem-technicolor-tc4400",
        {"vendor": "Technicolor", "model": "TC4400", "firmware": "70.12.42-190604"},
        [("tests/parsers/technicolor/fixtures/tc4400/cmswinfo.html", "/cmswinfo.html", 200)],
    ),
    (
        "cablemodem-technicolor-xb7",
        {"vendor": "Technicolor", "model": "XB7"},
        [("tests/parsers/technicolor/fixtures/xb7/network_setup.jst", "/network_setup.jst", 200)],
    ),
]


def collect_cable(c: Collector) -> None:
    repo, commit = "solentlabs/cable_modem_monitor", "1e7ab9badb12f11d05e66014acace45760cc0f00"
    for did, truth, files in CABLE:
        captures = []
        for path, served, status in files:
            dest = c.write(f"{did}/{Path(path).name}", c.git(repo, commit, path))
            captures.append(
                {"kind": "http", "port": 80, "path": served, "status": status, "body": dest}
            )
        c.add(
            Device(
                did,
                truth,
                {
                    "repo": repo,
                    "path": ", ".join(p for p, _s, _t in files),
                    "commit": commit,
                    "licence": "MIT",
                },
                captures,
                note="saved status/login page (sanitised by the origin repo)",
            )
        )


# Cable modems/gateways added later (issue 8, second round): only the page the scanner's own
# request plan reads (GET /), so a status page the scanner never fetches cannot help.
CABLE_ROOT = [
    # (id, truth, commit, path in repo)
    (
        "cablemodem-arris-g54",
        {"vendor": "ARRIS", "model": "G54"},
        "38f781e486e0de1a47fc72b167e09a288334b236^",
        "tests/parsers/arris/fixtures/g54/login_page.html",
    ),
    (
        "cablemodem-arris-s33",
        {"vendor": "ARRIS", "model": "S33"},
        "38f781e486e0de1a47fc72b167e09a288334b236^",
        "tests/parsers/arris/fixtures/s33/Login.html",
    ),
    (
        "cablemodem-arris-s34",
        {"vendor": "ARRIS", "model": "S34"},
        "8a73e67d3c9691a78418ac34200760c57f902a39^",
        "tests/parsers/arris/fixtures/s34/Login.html",
    ),
    (
        "cablemodem-arris-sb8200",
        {"vendor": "ARRIS", "model": "SB8200"},
        "38f781e486e0de1a47fc72b167e09a288334b236^",
        "tests/parsers/arris/fixtures/sb8200/root.html",
    ),
    (
        "cablemodem-motorola-mb8600",
        {"vendor": "Motorola", "model": "MB8600"},
        "38f781e486e0de1a47fc72b167e09a288334b236^",
        "tests/parsers/motorola/fixtures/mb8600/Login.html",
    ),
    (
        "cablemodem-netgear-c7000v2",
        {"vendor": "NETGEAR", "model": "C7000", "hardware": "2"},
        "38f781e486e0de1a47fc72b167e09a288334b236^",
        "tests/parsers/netgear/fixtures/c7000v2/index.htm",
    ),
    (
        "cablemodem-netgear-cm2000",
        {"vendor": "NETGEAR", "model": "CM2000"},
        "38f781e486e0de1a47fc72b167e09a288334b236^",
        "tests/parsers/netgear/fixtures/cm2000/root.htm",
    ),
]


def collect_cable_root(c: Collector) -> None:
    repo = "solentlabs/cable_modem_monitor"
    for did, truth, rev, path in CABLE_ROOT:
        commit = subprocess.run(
            ["git", f"--git-dir={c.mirrors / repo.replace('/', '+') / 'repo'}", "rev-parse", rev],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dest = c.write(f"{did}/{Path(path).name}", c.git(repo, commit, path))
        c.add(
            Device(
                did,
                truth,
                {"repo": repo, "path": path, "commit": commit, "licence": "MIT"},
                [{"kind": "http", "port": 80, "path": "/", "status": 200, "body": dest}],
                note="page the device serves at / (saved and sanitised by the origin repo)",
            )
        )


# Descriptions quoted verbatim in other projects' test sources: (id, truth, repo, commit,
# path, licence, name of the string constant holding the document).
EMBEDDED = [
    (
        "ssdpkmp-eero-pro-6",
        {"vendor": "eero", "model": "eero Pro 6"},
        "happycodelucky/ssdp-kmp",
        "bbe1467a87f979c33437b4129ffd4b979817fb5e",
        "ssdp/src/commonTest/kotlin/com/happycodelucky/ssdp/internal/DescriptionFixtures.kt",
        "MIT",
        "EERO_IGD",
    ),
]


def collect_embedded(c: Collector) -> None:
    """Kotlin raw strings (``val NAME = \"\"\"...\"\"\".trimIndent()``): the text they hold."""
    import textwrap

    for did, truth, repo, commit, path, licence, name in EMBEDDED:
        src = c.git(repo, commit, path).decode("utf-8")
        m = re.search(name + r'\s*=\s*"""\n(.*?)"""\.trimIndent\(\)', src, re.S)
        if m is None:
            raise SystemExit(f"{repo}:{path}: no string constant {name}")
        text = textwrap.dedent(m.group(1)).strip("\n") + "\n"
        dest = c.write(f"{did}/description.xml", text)
        c.add(
            Device(
                did,
                truth,
                {"repo": repo, "path": f"{path} ({name})", "commit": commit, "licence": licence},
                [{"kind": "upnp", "file": dest}],
                note="device description quoted verbatim in the origin repo's parser tests",
            )
        )


AIOUPNP = [
    # (id, truth, path, commit)
    (
        "aioupnp-actiontec-gt784wn",
        {"vendor": "Actiontec", "model": "GT784WN"},
        "tests/replays/Actiontec GT784WN",
        "e6d5c86efbe7f06c83f3b71886812ac9b6b4e71a",
    ),
    (
        "aioupnp-cisco-cga4131com",
        {"vendor": "Cisco", "model": "CGA4131COM"},
        "tests/devices/Cisco CGA4131COM",
        "69f35aa54bb7c66bd66e825d8a45984f9567f5e3",
    ),
    (
        "aioupnp-dlink-dir-890l",
        {"vendor": "D-Link", "model": "DIR-890L", "firmware": "1.20"},
        "tests/devices/D-Link DIR-890L",
        "02a00e7ef4e74042634d2424c6893fbfdb3901f3",
    ),
    (
        "aioupnp-dd-wrt-router",
        {"vendor": "DD-WRT", "os": "DD-WRT"},
        "tests/devices/DD-WRT router",
        "2f10a50bd12de501da33030db24074dd6ef0d40a",
    ),
    (
        "aioupnp-newmedia-dd-wrt-x86",
        {"vendor": "DD-WRT", "os": "DD-WRT"},
        "tests/replays/NewMedia-NET GmbH Generic X86",
        "beaa7bc3cbf6427c5f99c567531b2b9ad969ae29",
    ),
]


def _http_body(raw: str) -> tuple[str | None, str]:
    """("Server" header or None, body) of a recorded 'HTTP/1.x ...' response text."""
    if not raw.startswith("HTTP/"):
        return None, raw
    head, _sep, body = raw.partition("\r\n\r\n")
    m = re.search(r"^server:\s*(.*?)\s*$", head, re.I | re.M)
    return (m.group(1) if m else None), body


def collect_aioupnp(c: Collector) -> None:
    repo = "lbryio/aioupnp"
    for did, truth, path, commit in AIOUPNP:
        data = json.loads(c.git(repo, commit, path))
        captures: list[dict[str, Any]] = []
        if "gateway" in data:  # replay format
            g = data["gateway"]
            reply = g["reply"]
            lines = ["HTTP/1.1 200 OK"] + [
                f"{k.upper().replace('_', '-')}: {v}" for k, v in reply.items()
            ]
            ssdp = "\r\n".join(lines) + "\r\n\r\n"
            server, body = _http_body(g["gateway_xml"])
            location = reply["Location"]
        else:
            received = data["ssdp"]["received"]
            ssdp = received[0][1]
            location = data["gateway_dict"]["location"]
            name = location.rsplit("/", 1)[-1]
            raw = data["scpd"]["GET"][name]["response"]
            server, body = _http_body(raw)
        captures.append({"kind": "ssdp", "file": c.write(f"{did}/ssdp-reply.txt", ssdp)})
        cap: dict[str, Any] = {
            "kind": "upnp",
            "file": c.write(f"{did}/description.xml", body),
            "location": location,
        }
        if server:
            cap["server"] = server
        captures.append(cap)
        c.add(
            Device(
                did,
                truth,
                {"repo": repo, "path": path, "commit": commit, "licence": "MIT"},
                captures,
            )
        )


GOFRITZ = [
    # (folder under __sdcp__/, truth): the folder names the model and the firmware it was read from
    (
        "FRITZBox_6490_Cable_141.07.57",
        {"vendor": "AVM", "model": "FRITZ!Box 6490 Cable", "firmware": "141.07.57"},
    ),
    (
        "FRITZBox_7530_164.07.57",
        {"vendor": "AVM", "model": "FRITZ!Box 7530", "firmware": "164.07.57"},
    ),
    (
        "FRITZBox_7530_164.08.02",
        {"vendor": "AVM", "model": "FRITZ!Box 7530", "firmware": "164.08.02"},
    ),
    (
        "FRITZBox_7590_154.07.57",
        {"vendor": "AVM", "model": "FRITZ!Box 7590", "firmware": "154.07.57"},
    ),
]


def collect_gofritz(c: Collector) -> None:
    repo, commit = "nitram509/gofritz", "a363f90eab4eb7f5ecdcf9058c07216d7384d4e6"
    for folder, truth in GOFRITZ:
        path = f"__sdcp__/{folder}/tr64desc.xml"
        did = "gofritz-" + folder.lower().replace("_", "-").replace(".", "-")
        cap = {"kind": "upnp", "file": c.write(f"{did}/tr64desc.xml", c.git(repo, commit, path))}
        c.add(
            Device(
                did,
                truth,
                {"repo": repo, "path": path, "commit": commit, "licence": "MIT"},
                [cap],
                note="TR-064 description saved by the repo author",
            )
        )


SNMPSIM = [
    # (file stem under data/, truth) -- truth from the recording's own file name and sysDescr
    ("network/router/huawei-s5720", {"vendor": "Huawei", "model": "S5720-36C-EI-AC"}),
    ("network/switch/huawei-s12704", {"vendor": "Huawei", "model": "S12704"}),
    ("network/appliance/huawei-ism", {"vendor": "Huawei"}),
    ("network/switch/zte-zxr10-5250", {"vendor": "ZTE", "model": "ZXR10 5250-52TM-H"}),
    ("network/switch/zte-zrx10", {"vendor": "ZTE", "model": "ZXR10 9908"}),
    ("os/linux/zte-embsys-cgel", {"vendor": "ZTE"}),
    ("network/router/ruijie-n18010", {"vendor": "Ruijie", "model": "N18010"}),
    ("network/switch/ruijie-s5750-24gt12sfp", {"vendor": "Ruijie", "model": "S5750-24GT/12SFP"}),
    ("network/wifi/ruijie-m18000", {"vendor": "Ruijie", "model": "M18000-WS-ED"}),
    ("network/wifi/ubiquiti-m5", {"vendor": "Ubiquiti"}),
    ("network/switch/dlink-des3200", {"vendor": "D-Link", "model": "DES-3200-18"}),
    ("network/switch/dlink-des3038", {"vendor": "D-Link", "model": "DES-3028"}),
    ("network/switch/cisco-c3560", {"vendor": "Cisco", "model": "C3560"}),
    ("network/switch/cisco-c3750", {"vendor": "Cisco", "model": "C3750"}),
    ("network/router/juniper-mx960-16-1r6-7-a", {"vendor": "Juniper", "model": "MX960"}),
    ("network/wifi/aruba-7210", {"vendor": "Aruba", "model": "7210"}),
    ("network/wifi/ruckus-smartcell-gateway", {"vendor": "Ruckus"}),
    ("network/switch/h3c-e528-1", {"vendor": "H3C", "model": "E528"}),
    ("network/switch/h3c-wx6103", {"vendor": "H3C", "model": "WX6103"}),
    ("network/switch/brocade-icx6430-24", {"vendor": "Brocade", "model": "ICX6430-24"}),
    ("network/firewall/paloalto-pa-5000", {"vendor": "Palo Alto Networks"}),
    ("network/firewall/fortinet-xcu", {"vendor": "Fortinet"}),
    ("cloud/arista-dcs-7150s-52-cl", {"vendor": "Arista", "model": "DCS-7150S-52-CL"}),
    ("network/switch/hpe-procurve-516733-b21", {"vendor": "HPE"}),
]


def _snmprec_value(line: str) -> str:
    _oid, tag, value = line.split("|", 2)
    if tag.endswith("x"):  # hex-encoded OCTET STRING
        return bytes.fromhex(value).decode("utf-8", errors="replace")
    return value


def collect_snmpsim(c: Collector) -> None:
    repo, commit = "etingof/snmpsim-data", "1e91429999af5044daac63a2c892f36c0b356554"
    for stem, truth in SNMPSIM:
        path = f"data/{stem}.snmprec.bz2"
        raw = bz2.decompress(c.git(repo, commit, path)).decode("utf-8", errors="replace")
        keep = [ln for ln in raw.splitlines() if re.match(r"1\.3\.6\.1\.2\.1\.1\.[1-7]\.0\|", ln)]
        did = "snmpsim-" + stem.rsplit("/", 1)[-1]
        values = {ln.split("|", 1)[0]: _snmprec_value(ln) for ln in keep}
        cap: dict[str, Any] = {
            "kind": "snmp",
            "file": c.write(f"{did}/system.snmprec", "\n".join(keep) + "\n"),
        }
        if "1.3.6.1.2.1.1.2.0" in values:
            cap["sysobjectid"] = values["1.3.6.1.2.1.1.2.0"]
        c.add(
            Device(
                did,
                truth,
                {"repo": repo, "path": path, "commit": commit, "licence": "BSD-2-Clause"},
                [cap],
                note="system group (1.3.6.1.2.1.1) of the recording only",
            )
        )


# --------------------------------------------------------------------------- Recog

RECOG_SOURCE = {
    "html_title.xml": ("http", "title"),
    "http_servers.xml": ("http", "server"),
    "http_wwwauth.xml": ("http", "www-authenticate"),
    "snmp_sysdescr.xml": ("snmp", "sysdescr"),
    "ftp_banners.xml": ("banner", "ftp"),
    "ssh_banners.xml": ("banner", "ssh"),
    "telnet_banners.xml": ("banner", "telnet"),
    "x509_subjects.xml": ("tls", "subject"),
    "favicons.xml": ("favicon", "md5"),
}
# Router/CPE vendors wanted in the corpus beyond the other sources; a fingerprint is taken
# when its hw.vendor (or os.vendor for firmware projects) is one of these.
RECOG_VENDORS = {
    "AVM",
    "Huawei",
    "ZTE",
    "Technicolor",
    "Thomson",
    "ARRIS",
    "Arris",
    "Keenetic",
    "Buffalo",
    "Synology",
    "Google",
    "Ubiquiti",
    "OpenWrt",
    "DD-WRT",
    "Tomato",
    "MikroTik",
    "DrayTek",
    "ZyXEL",
    "Zyxel",
    "Netgear",
    "NETGEAR",
    "Linksys",
    "TP-LINK",
    "TP-Link",
    "ASUS",
    "Asus",
    "D-Link",
    "Ruijie",
    "Cisco",
    "Juniper",
    "Sagemcom",
    "Actiontec",
    "Tenda",
    "TOTOLINK",
    "Xiaomi",
    "eero",
    "Mercusys",
    "Belkin",
    "Teltonika",
    "GL.iNet",
    "Draytek",
    "Fortinet",
}
ROUTER_WORDS = re.compile(
    r"router|gateway|modem|wireless|wi-?fi|access point|fritz|dsl|cpe|home|firewall|airos|"
    r"edge|unifi|openwrt|dd-wrt|tomato|routeros|vigor|keenetic|srm|luci|ont|box|nas",
    re.I,
)
NOT_ROUTER = re.compile(r"print|camera|tv\b|phone|printer|chromecast|media", re.I)
GOOGLE_WIFI = re.compile(r"wifi|onhub", re.I)
PER_VENDOR = 6
# Recog's vendor spellings -> the display names of identity/data/vendors.yaml (the truth labels
# use the registry's names so that the gate compares like with like).
DISPLAY = {
    "TP-LINK": "TP-Link",
    "Netgear": "NETGEAR",
    "Asus": "ASUS",
    "ZyXEL": "Zyxel",
    "Thomson": "Technicolor",
    "Arris": "ARRIS",
    "Draytek": "DrayTek",
}


def _params(fp: ET.Element) -> dict[str, str]:
    return {
        p.get("name", ""): p.get("value", "") for p in fp.findall("param") if p.get("pos") == "0"
    }


def collect_recog(c: Collector, recog: Path) -> None:
    counts: dict[str, int] = {}
    for db, (kind, what) in RECOG_SOURCE.items():
        tree = ET.parse(recog / db)
        for n, fp in enumerate(tree.getroot().findall("fingerprint")):
            params = _params(fp)
            hw_vendor = params.get("hw.vendor", "")
            os_vendor = params.get("os.vendor", "")
            os_product = params.get("os.product", "")
            firmware_os = os_product if os_product in ("OpenWrt", "DD-WRT", "Tomato") else ""
            vendor = hw_vendor or (os_vendor if os_vendor in RECOG_VENDORS else "")
            if vendor not in RECOG_VENDORS or "{" in vendor:
                continue
            desc = (fp.findtext("description") or "").strip()
            device = params.get("hw.device", "") + " " + desc + " " + params.get("hw.product", "")
            if not ROUTER_WORDS.search(device) and vendor not in ("AVM", "Keenetic", "DD-WRT"):
                continue
            if NOT_ROUTER.search(device) or (vendor == "Google" and not GOOGLE_WIFI.search(device)):
                continue
            key = DISPLAY.get(vendor, vendor).lower()
            examples = [e for e in fp.findall("example") if (e.text or "").strip()]
            for i, ex in enumerate(examples[:2]):
                if counts.get(key, 0) >= PER_VENDOR:
                    break
                text = ex.text or ""
                if ex.get("_encoding") == "base64":
                    if kind != "banner":
                        continue
                    text = base64.b64decode(text).decode("latin-1")
                truth: dict[str, str] = {"vendor": DISPLAY.get(vendor, vendor)}
                if ex.get("hw.vendor"):  # Recog's label of this example (DD-WRT on a Linksys)
                    truth["vendor"] = DISPLAY.get(ex.get("hw.vendor", ""), ex.get("hw.vendor", ""))
                model = params.get("hw.product", "")
                if model and "{" not in model:
                    truth["model"] = model
                elif ex.get("hw.product"):
                    truth["model"] = ex.get("hw.product", "")
                if firmware_os:
                    truth["os"] = firmware_os
                fw = ex.get("hw.version") or ex.get("os.version") if firmware_os == "" else None
                if (
                    fw
                    and vendor not in ("Ubiquiti",)
                    and params.get("hw.version", "x").startswith("{")
                ):
                    truth["firmware"] = fw
                did = f"recog-{db.removesuffix('.xml').replace('_', '-')}-{n}-{i}"
                cap: dict[str, Any] = {"kind": kind}
                if kind == "http":
                    cap.update(
                        {
                            "port": 80,
                            "path": "/",
                            "status": 401 if what == "www-authenticate" else 200,
                        }
                    )
                    if what == "title":
                        cap["title"] = text
                    else:
                        cap["headers"] = {what: text}
                elif kind == "snmp":
                    cap["sysdescr"] = text
                elif kind == "banner":
                    cap.update(
                        {
                            "protocol": what,
                            "port": {"ftp": 21, "ssh": 22, "telnet": 23}[what],
                            "text": text,
                        }
                    )
                elif kind == "tls":
                    cap.update({"port": 443, "subject": text})
                else:
                    cap.update({"port": 80, "md5": text.strip().lower()})
                counts[key] = counts.get(key, 0) + 1
                c.add(
                    Device(
                        did,
                        truth,
                        {
                            "repo": "rapid7/recog",
                            "path": f"xml/{db}",
                            "commit": "14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5",
                            "licence": "BSD-2-Clause",
                            "fingerprint": desc[:120],
                        },
                        [cap],
                        recog=True,
                        note="Recog example: truth is Recog's own label for its fingerprint",
                    )
                )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--recog", type=Path, default=Path("/work/shared/data/recog"))
    ap.add_argument("--samples", type=Path, default=Path("/work/shared/data/samples"))
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "captures")
    args = ap.parse_args(argv)
    c = Collector(args.mirrors, args.out)
    collect_samples(c, args.samples)
    collect_cable(c)
    collect_cable_root(c)
    collect_embedded(c)
    collect_aioupnp(c)
    collect_gofritz(c)
    collect_snmpsim(c)
    collect_recog(c, args.recog)
    header = (
        "# Captured responses of real devices with truth labels and provenance.\n"
        "# Written by scripts/captures/collect.py (do not edit by hand;\n"
        "# see tests/captures/README.md).\n"
    )
    index = {"devices": [d.entry() for d in c.devices]}
    (args.out / "index.yaml").write_text(
        header + yaml.safe_dump(index, sort_keys=False, allow_unicode=True, width=100), "utf-8"
    )
    vendors = {d.truth.get("vendor") for d in c.devices}
    own = [d for d in c.devices if not d.recog]
    print(f"{len(c.devices)} devices ({len(own)} not from Recog), {len(vendors)} vendors")
    return 0


if __name__ == "__main__":
    sys.exit(main())

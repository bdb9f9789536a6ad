"""Merging evidence of several probes into one identity, vendor by vendor."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from defusedxml import ElementTree as DET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routerwatch.fingerprint import Fingerprinter, load_rules
from routerwatch.fingerprint.engine import literal_prefix
from routerwatch.models import (
    Banner,
    DeviceIdentity,
    HttpObservation,
    Observation,
    TlsCertificate,
    UpnpDescription,
)

FP = Fingerprinter()


def http(
    path: str = "/",
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    body: str = "",
    title: str | None = None,
    port: int = 80,
    method: str = "GET",
    favicon_md5: str | None = None,
) -> HttpObservation:
    return HttpObservation(
        port=port,
        scheme="https" if port in (443, 8443) else "http",
        method=method,
        path=path,
        status=status,
        headers=headers,
        body=body,
        title=title,
        favicon_md5=favicon_md5,
    )


def luci(model_json: str, port: int = 80) -> HttpObservation:
    return http(
        "/cgi-bin/luci/;stok=/locale?form=lang",
        headers=(("content-type", "application/json"),),
        body=model_json,
        port=port,
        method="POST",
    )


NOT_FOUND = (("server", "lighttpd"),)


def rules_of(ident: DeviceIdentity) -> set[str]:
    return {e.rule for e in ident.evidence if e.rule}


# --------------------------------------------------------------------------- vendors


def test_tplink_old_ui_realm_and_upnp_server() -> None:
    obs = Observation(
        address="127.0.0.11",
        open_ports=(80, 1900),
        http=(
            http(
                status=401,
                headers=(
                    ("server", "Router Webserver"),
                    ("www-authenticate", 'Basic realm="TP-LINK Wireless N Router WR841N"'),
                ),
            ),
            http("/currentsetting.htm", status=404, headers=(("server", "Router Webserver"),)),
        ),
        upnp=UpnpDescription(server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0"),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.hardware, ident.firmware) == (
        "TP-Link",
        "TL-WR841N",
        "8",
        None,
    )
    assert ident.confidence >= 0.9
    assert {"tplink-realm-model", "tplink-upnp-ipos"} <= rules_of(ident)
    sources = {e.source for e in ident.evidence}
    assert {"http.realm:80", "upnp.server"} <= sources
    realm = next(e for e in ident.evidence if e.rule == "tplink-realm-model")
    assert realm.value == "TP-LINK Wireless N Router WR841N"
    assert dict(realm.fields) == {"vendor": "TP-Link", "model": "TL-WR841N"}
    # the Server header seen in two responses is one piece of evidence, not two
    assert sum(e.rule == "tplink-server-router-webserver" for e in ident.evidence) == 1


def test_tplink_luci_model_and_upnp_hardware() -> None:
    obs = Observation(
        address="127.0.0.12",
        http=(
            http(title="Opening...", headers=(("server", "lighttpd"),)),
            luci('{"success":true,"data":{"locale":"en_US","force":false,"model":"Archer AX21"}}'),
        ),
        upnp=UpnpDescription(manufacturer="TP-Link", model_name="Archer AX21", model_number="3.0"),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.hardware) == ("TP-Link", "Archer AX21", "3")
    assert ident.firmware is None  # only shown after login: never guessed
    assert ident.confidence >= 0.9
    assert {"tplink-luci-model", "tplink-upnp-model-number-hardware"} <= rules_of(ident)


def test_tplink_omada_router_luci_hardware() -> None:
    obs = Observation(
        address="127.0.0.13",
        http=(luci('{"success":true,"data":{"locale":"en_US","model":"TL-ER6120 v3.0"}}', 443),),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.hardware) == ("TP-Link", "TL-ER6120", "3")
    assert [e.source for e in ident.evidence] == ["http.luci:443"]
    assert 0.7 < ident.confidence < 0.9  # one strong source


def test_netgear_realm_and_currentsetting() -> None:
    obs = Observation(
        address="127.0.0.21",
        http=(
            http(status=401, headers=(("www-authenticate", 'Basic realm="NETGEAR R7000"'),)),
            http(
                "/currentsetting.htm",
                body="Firmware=V1.0.9.88_10.2.88\r\nRegionTag=R7000_NA\r\nRegion=us\r\n"
                "Model=R7000\r\nInternetConnectionStatus=Up\r\n",
            ),
        ),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.firmware, ident.region) == (
        "NETGEAR",
        "R7000",
        "V1.0.9.88_10.2.88",
        "NA",
    )
    assert ident.hardware is None
    assert ident.confidence >= 0.95
    assert ident.label() == "NETGEAR R7000 (fw V1.0.9.88_10.2.88)"


def test_netgear_cable_gateway_from_saved_pages(fixtures: Path) -> None:
    web = fixtures / "samples" / "web" / "netgear-c3700"
    obs = Observation(
        address="127.0.0.22",
        http=(
            http(status=401, body=(web / "root.html").read_text()),
            http("/index.htm", body=(web / "index.htm").read_text(errors="replace")),
        ),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model) == ("NETGEAR", "C3700")
    assert {e.source for e in ident.evidence} == {"http.title:80"}


def test_asus_ftp_title_and_telnet() -> None:
    obs = Observation(
        address="127.0.0.31",
        open_ports=(21, 23, 80),
        http=(http(title="ASUS Login", headers=(("server", "httpd/2.0"),)),),
        banners=(
            Banner(21, "ftp", "220 Welcome to ASUS RT-AC68U FTP service.\r\n"),
            Banner(23, "telnet", "\r\nRT-AC68U login: "),
        ),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model) == ("ASUS", "RT-AC68U")
    assert ident.confidence >= 0.9
    assert {"asus-ftp-model", "asus-title-login", "asus-telnet-login"} <= rules_of(ident)


def test_dlink_server_header_model_and_firmware_on_two_ports() -> None:
    server = (("server", "Linux, WEBACCESS/1.0, DIR-850L Ver 1.14WW"),)
    obs = Observation(
        address="127.0.0.41",
        http=(http(headers=server), http(headers=server, port=8080)),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.firmware) == ("D-Link", "DIR-850L", "1.14WW")
    # one evidence per rule and value, not one per port
    assert sum(e.rule == "dlink-server-model-firmware" for e in ident.evidence) == 1
    assert 0.7 < ident.confidence < 0.95


def test_zyxel_ftp_and_certificate_agree_on_model() -> None:
    obs = Observation(
        address="127.0.0.51",
        banners=(Banner(21, "ftp", "220 FTP Server (ZyWALL USG 20) [::ffff:127.0.0.51]"),),
        tls=(TlsCertificate(443, "CN=usg20_107BEF0AD201", "CN=usg20_107BEF0AD201", None, True),),
    )
    ident = FP.identify(obs)
    assert ident.vendor == "Zyxel"
    assert ident.model in ("USG 20", "USG20")
    assert ident.confidence >= 0.9


def _upnp_from_xml(path: Path) -> UpnpDescription:
    root = DET.parse(path).getroot()
    assert root is not None
    ns = {"u": "urn:schemas-upnp-org:device-1-0"}
    dev = root.find("u:device", ns)
    assert dev is not None

    def text(tag: str) -> str | None:
        el = dev.find(f"u:{tag}", ns)
        return el.text if el is not None else None

    return UpnpDescription(
        location="http://127.0.0.61:49152/desc.xml",
        manufacturer=text("manufacturer"),
        model_name=text("modelName"),
        model_number=text("modelNumber"),
        model_description=text("modelDescription"),
        friendly_name=text("friendlyName"),
        serial_number=text("serialNumber"),
        device_type=text("deviceType"),
    )


def test_linksys_upnp_description_from_real_capture(fixtures: Path) -> None:
    upnp = _upnp_from_xml(fixtures / "samples/upnp/miniupnpc/linksys_WAG200G_desc.xml")
    assert upnp.model_number == "WAG200G"
    ident = FP.identify(Observation(address="127.0.0.61", upnp=upnp))
    assert (ident.vendor, ident.model) == ("Linksys", "WAG200G")
    assert ident.hardware is None and ident.firmware is None
    assert {"linksys-upnp-model-number", "linksys-upnp-friendly-name"} <= rules_of(ident)


def test_draytek_snmp_title_and_certificate() -> None:
    obs = Observation(
        address="127.0.0.71",
        http=(http(title="Vigor Login Page", port=443),),
        tls=(
            TlsCertificate(
                443,
                "CN=Vigor Router,OU=DrayTek Support,O=DrayTek Corp.,L=HuKou,ST=HsinChu,C=TW",
                "CN=Vigor Router,OU=DrayTek Support,O=DrayTek Corp.,L=HuKou,ST=HsinChu,C=TW",
            ),
        ),
        snmp_sysdescr="DrayTek Corporation, Router Model: Vigor2960, Version: "
        "1.5.1.4_Beta/1.5.1.4, Build Date/Time: 2024-02-23 05:29:35",
    )
    ident = FP.identify(obs)
    # the own rule keeps the whole firmware string; Recog's shorter "1.5.1.4" loses
    assert (ident.vendor, ident.model, ident.firmware) == (
        "DrayTek",
        "Vigor2960",
        "1.5.1.4_Beta/1.5.1.4",
    )
    assert ident.confidence >= 0.95


def test_cisco_rv_snmp_and_certificate() -> None:
    obs = Observation(
        address="127.0.0.81",
        tls=(
            TlsCertificate(
                443,
                "CN=74:a2:e6:5c:99:21,OU=RV345,O=Cisco Systems\\, Inc.,L=Irvine,C=US",
                "same",
            ),
        ),
        snmp_sysdescr="Linux, Cisco Small Business RV345-K9, Version 1.0.03.21 "
        "Wed Mar 10 04:42:23 IST 2021",
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.firmware) == ("Cisco", "RV345", "1.0.03.21")
    assert ident.confidence >= 0.95


def test_mikrotik_banners_give_routeros_version_but_no_model() -> None:
    obs = Observation(
        address="127.0.0.91",
        open_ports=(21, 22, 80, 8291),
        http=(http(title="RouterOS router configuration page"),),
        banners=(
            Banner(21, "ftp", "220 MikroTik FTP server (MikroTik 6.48.6) ready\r\n"),
            Banner(22, "ssh", "SSH-2.0-ROSSSH\r\n"),
        ),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.firmware) == ("MikroTik", None, "6.48.6")
    assert 0.6 < ident.confidence < 0.9  # no model: never above 0.6 + firmware bonus


def test_ubiquiti_vendor_only() -> None:
    obs = Observation(
        address="127.0.0.101",
        http=(http(title="EdgeOS", port=443),),
        tls=(
            TlsCertificate(
                443, "CN=UBNT Router UI,O=Ubiquiti Networks,L=San Jose,ST=CA,C=US", "same"
            ),
        ),
    )
    ident = FP.identify(obs)
    assert (ident.vendor, ident.model, ident.hardware, ident.firmware) == (
        "Ubiquiti",
        None,
        None,
        None,
    )
    assert 0.4 < ident.confidence <= 0.6


# --------------------------------------------------------------------------- merge rules


def test_single_weak_source_is_vendor_only_and_low_confidence() -> None:
    ident = FP.identify(
        Observation(address="127.0.0.2", http=(http(headers=(("server", "TP-LINK HTTPD/1.0"),)),))
    )
    assert (ident.vendor, ident.model) == ("TP-Link", None)
    assert 0.3 <= ident.confidence <= 0.45


def test_conflicting_vendors_heaviest_wins_and_confidence_drops() -> None:
    netgear = (
        http(status=401, headers=(("www-authenticate", 'Basic realm="NETGEAR R7000"'),)),
        http("/currentsetting.htm", body="Firmware=V1.0.9.88_10.2.88\nModel=R7000\n"),
    )
    clean = FP.identify(Observation(address="127.0.0.3", http=netgear))
    mixed = FP.identify(
        Observation(
            address="127.0.0.3",
            http=netgear,
            upnp=UpnpDescription(
                manufacturer="TP-Link", model_name="Archer C7", model_number="2.0"
            ),
        )
    )
    assert (mixed.vendor, mixed.model, mixed.firmware) == ("NETGEAR", "R7000", "V1.0.9.88_10.2.88")
    assert mixed.hardware is None  # the TP-Link hardware revision is not mixed in
    assert mixed.confidence < clean.confidence - 0.1
    # the losing evidence is still listed, so a user can see the conflict
    assert "tplink-upnp-model-name" in rules_of(mixed)


def test_conflicting_models_keep_details_of_the_winner_only() -> None:
    obs = Observation(
        address="127.0.0.4",
        http=(
            http(
                status=401,
                headers=(("www-authenticate", 'Basic realm="TP-LINK Wireless N Router WR841N"'),),
            ),
        ),
        upnp=UpnpDescription(
            server="ipos/7.0 UPnP/1.0 TL-WR940N/1.0",
            manufacturer="TP-LINK",
            model_name="TL-WR841N",
        ),
    )
    ident = FP.identify(obs)
    assert ident.model == "TL-WR841N"
    assert ident.hardware is None  # "1" belongs to the TL-WR940N claim


def test_model_spellings_that_end_one_another_agree() -> None:
    # Recog's TP-Link UPnP rule and the own rule agree; a bare WR841N would agree too
    rules = load_rules()
    ident = Fingerprinter(rules=rules, use_recog=True).identify(
        Observation(
            address="127.0.0.5", upnp=UpnpDescription(server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0")
        )
    )
    assert ident.model == "TL-WR841N" and ident.hardware == "8"
    own = [e for e in ident.evidence if e.rule == "tplink-upnp-ipos"]
    recog = [e for e in ident.evidence if e.rule and e.rule.startswith("recog.")]
    assert own and recog


def test_404_and_wrong_probe_answers_are_ignored() -> None:
    obs = Observation(
        address="127.0.0.6",
        http=(
            http("/currentsetting.htm", status=404, body="Firmware=V1.0.0.1\nModel=R7000\n"),
            http("/cgi-bin/luci/;stok=/locale?form=lang", body='{"data":{"model":"Archer AX21"}}'),
            http("/", status=503, headers=(("server", "TP-LINK HTTPD/1.0"),)),
        ),
    )
    ident = FP.identify(obs)
    assert ident == DeviceIdentity()  # GET instead of POST, 404, 5xx: nothing read


def test_recog_is_a_fallback_only() -> None:
    obs = Observation(
        address="127.0.0.7",
        banners=(Banner(21, "ftp", "220 ProFTPD 1.3.3g Server (NETGEAR ReadyNAS) [127.0.0.7]"),),
    )
    with_recog = FP.identify(obs)
    assert (with_recog.vendor, with_recog.model) == ("NETGEAR", "ReadyNAS")
    assert with_recog.confidence < 0.4  # Recog alone is weak
    assert Fingerprinter(use_recog=False).identify(obs) == DeviceIdentity()


def test_mac_vendor_only_counts_for_known_router_vendors() -> None:
    ident = FP.identify(Observation(address="127.0.0.8", mac_vendor="Routerboard.com"))
    assert (ident.vendor, ident.model) == ("MikroTik", None)
    assert ident.confidence < 0.25
    assert (
        FP.identify(Observation(address="127.0.0.8", mac_vendor="Intel Corporation")).vendor is None
    )


def test_custom_rules_only(tmp_path: Path) -> None:
    rules = [r for r in load_rules() if r.id == "tplink-server-httpd"]
    fp = Fingerprinter(rules=rules, use_recog=False)
    assert len(fp.rules) == 1
    obs = Observation(
        address="127.0.0.9",
        http=(
            http(
                headers=(
                    ("server", "TP-LINK HTTPD/1.0"),
                    ("www-authenticate", 'Basic realm="NETGEAR R7000"'),
                )
            ),
        ),
    )
    ident = fp.identify(obs)
    assert (ident.vendor, ident.model) == ("TP-Link", None)


# --------------------------------------------------------------------------- hostile input

GARBAGE = (
    "\x00\xff\xfe<script>alert(1)</script>"
    + "A" * 5000
    + "\u202e\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
)


def test_hostile_observation_gives_unknown_identity() -> None:
    obs = Observation(
        address="127.0.0.66",
        open_ports=(21, 22, 23, 80, 7777),
        http=(
            http(
                status=401,
                headers=(
                    ("server", GARBAGE),
                    ("www-authenticate", 'Basic realm="' + "(" * 3000 + '"'),
                    ("www-authenticate", 'Digest realm=unquoted, nonce="x"'),
                    ("set-cookie", GARBAGE),
                ),
                body="<title>" + GARBAGE + "</title>" * 1000,
            ),
            luci('{"data": {"model": ' + "[" * 10000 + "]" * 10000 + "}}"),
            luci('{"data": {"model": 42}}'),
            http("/currentsetting.htm", body="Firmware=" + "9" * 10000 + "\nModel=" + GARBAGE),
            http("/favicon.ico", favicon_md5="not-a-hash"),
        ),
        banners=(
            Banner(21, "ftp", GARBAGE),
            Banner(22, "ssh", "SSH-2.0-" + GARBAGE),
            Banner(23, "telnet", GARBAGE, raw_hex="fffd18fffb01" + "zz"),
            Banner(23, "telnet", "", raw_hex="ff" * 100),
            Banner(7777, "tcp", "xlogin:"),
        ),
        tls=(TlsCertificate(443, GARBAGE, GARBAGE),),
        upnp=UpnpDescription(server=GARBAGE, manufacturer=GARBAGE, model_name=GARBAGE),
        snmp_sysdescr=GARBAGE,
        mac_vendor=GARBAGE,
    )
    start = time.perf_counter()
    ident = FP.identify(obs)
    assert time.perf_counter() - start < 2.0
    assert (ident.vendor, ident.model, ident.hardware, ident.firmware) == (None, None, None, None)
    assert ident.confidence == 0.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    server=st.text(max_size=80),
    realm=st.text(max_size=80),
    title=st.one_of(st.none(), st.text(max_size=80)),
    banner=st.text(max_size=200),
    raw=st.binary(max_size=64),
    protocol=st.sampled_from(["ftp", "ssh", "telnet", "tcp", "socks5"]),
)
def test_identify_never_fails_and_stays_in_bounds(
    server: str, realm: str, title: str | None, banner: str, raw: bytes, protocol: str
) -> None:
    obs = Observation(
        address="127.0.0.77",
        http=(
            http(
                status=401,
                title=title,
                headers=(
                    ("server", server),
                    ("www-authenticate", f'Basic realm="{realm}"'),
                ),
            ),
        ),
        banners=(Banner(23, protocol, banner, raw.hex()),),
        upnp=UpnpDescription(server=server, model_name=realm),
    )
    ident = FP.identify(obs)
    assert 0.0 <= ident.confidence <= 1.0
    if ident.vendor is None and ident.model is None:
        assert ident.confidence == 0.0
    else:
        assert ident.confidence > 0.0 and ident.evidence
    for e in ident.evidence:
        assert len(e.value) <= 200 and e.rule


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(4))))
def test_order_of_probe_results_does_not_change_the_identity(order: list[int]) -> None:
    parts = [
        http(status=401, headers=(("www-authenticate", 'Basic realm="NETGEAR R7000"'),)),
        http(
            "/currentsetting.htm",
            body="Firmware=V1.0.9.88_10.2.88\nRegionTag=R7000_NA\nModel=R7000\n",
        ),
        http(headers=(("server", "TP-LINK HTTPD/1.0"),), port=8080),
        http(title="NETGEAR Router R7000", port=8443),
    ]
    ident = FP.identify(Observation(address="127.0.0.88", http=tuple(parts[i] for i in order)))
    base = FP.identify(Observation(address="127.0.0.88", http=tuple(parts)))
    assert (ident.vendor, ident.model, ident.firmware, ident.region, ident.confidence) == (
        base.vendor,
        base.model,
        base.firmware,
        base.region,
        base.confidence,
    )
    assert set(ident.evidence) == set(base.evidence)


def test_identify_is_fast_with_recog_loaded() -> None:
    obs = Observation(
        address="127.0.0.99",
        http=(
            http(
                status=401,
                title="401 Unauthorized",
                headers=(
                    ("server", "Router Webserver"),
                    ("www-authenticate", 'Basic realm="TP-LINK Wireless N Router WR841N"'),
                ),
                body="<html><title>401 Unauthorized</title></html>",
            ),
            http("/favicon.ico", status=404, headers=(("server", "Router Webserver"),)),
            http("/currentsetting.htm", status=404, headers=(("server", "Router Webserver"),)),
            luci("<html>404</html>"),
        ),
        banners=(Banner(22, "ssh", "SSH-2.0-dropbear_2019.78"), Banner(23, "telnet", "login: ")),
        upnp=UpnpDescription(server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0"),
    )
    FP.identify(obs)
    runs = 50
    start = time.perf_counter()
    for _ in range(runs):
        FP.identify(obs)
    per_call = (time.perf_counter() - start) / runs
    assert per_call < 0.02, f"{per_call * 1000:.1f} ms per identify"  # bench: ~1.5 ms


@pytest.mark.parametrize("address", ["127.0.0.1"])
def test_empty_observation(address: str) -> None:
    assert FP.identify(Observation(address=address)) == DeviceIdentity()


def test_user_rule_on_the_whole_upnp_description(tmp_path: Path, fixtures: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        """
rules:
  - id: livebox-upnp
    source: upnp
    pattern: '(?m)^manufacturer=Sagemcom\\n^model_name=Residential (?P<model>Livebox)\\b'
    vendor: Sagemcom
    weight: 0.8
    description: Orange Livebox built by Sagemcom
    references: [samples/upnp/miniupnpc/new_LiveBox_desc.xml]
    examples:
      - input: "manufacturer=Sagemcom\\nmodel_name=Residential Livebox,(DSL,WAN Ethernet)"
        expect: {vendor: Sagemcom, model: Livebox}
"""
    )
    rules = load_rules([tmp_path])
    assert rules[0].check_examples() == []
    upnp = _upnp_from_xml(fixtures / "samples/upnp/miniupnpc/new_LiveBox_desc.xml")
    obs = Observation(address="127.0.0.10", upnp=upnp)
    ident = Fingerprinter(rules=rules, use_recog=False, use_generic=False).identify(obs)
    assert (ident.vendor, ident.model) == ("Sagemcom", "Livebox")
    assert [e.source for e in ident.evidence] == ["upnp"]


# --------------------------------------------------------------------------- rule index


@pytest.mark.parametrize(
    ("pattern", "flags", "prefix"),
    [
        (r"^TP-LINK HTTPD/\d", 0, "TP-LINK HTTPD/"),
        (r"^Linux, WEBACCESS/1\.0, (DIR-\d+)", 0, "Linux, WEBACCESS/1.0, "),
        (r"^abcd?e", 0, "abc"),  # "d" is optional
        (r"^abc*", 0, None),  # "ab" is too short once "c" may be absent
        (r"^abc|xyz", 0, None),  # top-level alternation
        (r"^(?:abc|xyz)", 0, None),
        (r"^[|]abc", 0, None),
        (r"^ab\dcd", 0, None),
        (r"abc", 0, None),  # not anchored
        (r"\AMikroTik", 0, "MikroTik"),
        (r"^Router Webserver$", re.VERBOSE, None),
        (r"^a\|bc(d|e)", 0, "a|bc"),
    ],
)
def test_literal_prefix(pattern: str, flags: int, prefix: str | None) -> None:
    assert literal_prefix(re.compile(pattern, flags)) == prefix


def test_rule_index_never_hides_a_matching_rule() -> None:
    """Every example of every rule (own and Recog) that the rule matches is offered to it."""
    fp = FP
    checked = 0
    for rule in fp.rules:
        for ex in rule.examples:
            if not rule.regex.search(ex.input):
                continue
            for source in rule.sources:
                assert rule in list(fp._index[source].candidates(ex.input)), (rule.id, ex.input)
                checked += 1
    assert checked > 4000
    # and it does skip most rules for a one-line text
    index = fp._index["http.server"]
    assert len(list(index.candidates("TP-LINK HTTPD/1.0"))) < len(index.rules) / 3

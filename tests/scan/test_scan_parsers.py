"""The pure parse halves of the probes, fed by recorded responses (no network)."""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import zlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.scan.probes import arp, banner, http, snmp, socks, tcp, tls, upnp

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "fixtures" / "samples"


def recorded(name: str) -> http.RawResponse:
    """A recorded HTTP response file → RawResponse (as the fetcher hands it over)."""
    data = (DATA / name).read_bytes()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = tuple(
        (k.strip(), v.strip()) for k, _, v in (line.partition(b":") for line in lines[1:])
    )
    return http.RawResponse(status=status, headers=headers, body=body)


# --------------------------------------------------------------------------- HTTP


def test_old_tplink_401_realm_server_title() -> None:
    obs = http.build_http_observation(80, "http", "GET", "/", recorded("tplink_wr841n_401.http"))
    assert obs.status == 401
    assert obs.header("Server") == "Router Webserver"
    assert http.parse_realm(obs.header("www-authenticate")) == "TP-LINK Wireless N Router WR841N"
    assert obs.title == "401 Unauthorized"
    assert all(k == k.lower() for k, _ in obs.headers)


def test_dlink_messy_html_charset_and_cookies() -> None:
    obs = http.build_http_observation(80, "http", "GET", "/", recorded("dlink_dir850l_root.http"))
    assert obs.header("server") == "Linux, WEBACCESS/1.0, DIR-850L Ver 1.14WW"
    # the comment and the script mention <title>; the real one is upper-case, multi-line,
    # has an attribute, an entity and a latin-1 byte
    assert obs.title == "D-LINK SYSTEMS, INC. | WIRELESS ROUTER | HOME & Café"
    cookies = [v for k, v in obs.headers if k == "set-cookie"]
    assert cookies == ["uid=Xr4b2eQmPd; path=/", "lang=en; path=/"]
    assert obs.favicon_md5 is None and not obs.truncated


def test_netgear_currentsetting() -> None:
    obs = http.build_http_observation(
        80, "http", "GET", "/currentsetting.htm", recorded("netgear_r7000_currentsetting.http")
    )
    fields = http.parse_currentsetting(obs.body)
    assert fields["Firmware"] == "V1.0.4.84_10.0.58"
    assert fields["Model"] == "R7000"
    assert fields["RegionTag"] == "R7000_NA"
    assert http.parse_currentsetting("Firmware=V1\rModel=R6400\r") == {
        "Firmware": "V1",
        "Model": "R6400",
    }
    assert http.parse_currentsetting("<html>=</html>\n") == {}


def test_tplink_luci_locale() -> None:
    obs = http.build_http_observation(
        80, "http", "POST", http.LUCI_PATH, recorded("tplink_ax21_luci_locale.http")
    )
    assert http.parse_luci_locale(obs.body) == {
        "locale": "en_US",
        "force": False,
        "model": "Archer AX21",
    }
    assert http.parse_luci_locale("<html>login</html>") is None
    assert http.parse_luci_locale('{"success": false}') is None
    assert http.parse_luci_locale("[1, 2]") is None
    assert http.parse_luci_locale("[" * 100000) is None  # deep nesting: no crash


@pytest.mark.parametrize(
    ("header", "realm"),
    [
        ('Basic realm="NETGEAR R7000"', "NETGEAR R7000"),
        ("Basic realm=NETGEAR", "NETGEAR"),
        ("basic REALM='RT-AC68U'", "RT-AC68U"),
        ('Basic realm = "spaced out"', "spaced out"),
        ('Basic realm="say \\"hi\\" now"', 'say "hi" now'),
        ('Basic realm="TP-LINK Wireless N Router WR841N', "TP-LINK Wireless N Router WR841N"),
        ('Digest qop="auth", realm="Linksys E1200", nonce="abc"', "Linksys E1200"),
        ('Digest realm="first", Basic realm="second"', "first"),
        ('Basic xrealm="no", realm="yes"', "yes"),
        ('Basic realm=""', None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_realm_parsing(header: str | None, realm: str | None) -> None:
    assert http.parse_realm(header) == realm


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<title>Archer C7</title>", "Archer C7"),
        ("<TITLE>\n  TL-WR841N \t\n</TITLE>", "TL-WR841N"),
        ('<title lang="en">a &amp; b &#169;</title>', "a & b ©"),
        ("<html><head><title>never closed<body>text</body>", "never closed"),
        ("<html><title>no end at all", "no end at all"),
        ("<html><head></head><body>no title</body></html>", None),
        ("<title></title>", None),
        ("plain text, no markup", None),
        ("<script>document.title='<title>x</title>'</script><title>real</title>", "real"),
        ("<!-- <title>commented</title> --><title>shown</title>", "shown"),
        ("<title>" + "A" * 1000 + "</title>", "A" * 256),
        ("<![bogus[ <title>after bogus</title>", "after bogus"),
    ],
)
def test_title_extraction(html: str, title: str | None) -> None:
    assert http.extract_title(html) == title


def test_titles_of_real_netgear_pages() -> None:
    web = SAMPLES / "web"
    assert http.extract_title((web / "netgear-c3700/index.htm").read_text()) == (
        "NETGEAR Gateway C3700-100NAS"
    )
    assert http.extract_title((web / "netgear-cm600/RouterStatus.asp").read_text()) == (
        "NETGEAR Gateway CM600"
    )
    assert http.extract_title((web / "netgear-c3700/root.html").read_text()) == (
        "HTTP 401 - Unauthorized"
    )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_title_extraction_never_raises(html: str) -> None:
    title = http.extract_title(html)
    assert title is None or (0 < len(title) <= 256 and title == title.strip())


def test_favicon_hash_and_binary_body() -> None:
    icon = bytes(range(256)) * 3
    raw = http.RawResponse(200, ((b"Content-Type", b"image/x-icon"),), icon)
    obs = http.build_http_observation(80, "http", "GET", "/favicon.ico", raw, favicon=True)
    assert obs.favicon_md5 == hashlib.md5(icon).hexdigest()
    assert obs.body == ""
    missing = http.RawResponse(404, ((b"Content-Type", b"text/html"),), b"<title>404</title>")
    obs = http.build_http_observation(80, "http", "GET", "/favicon.ico", missing, favicon=True)
    assert obs.favicon_md5 is None and obs.status == 404
    cut = http.RawResponse(200, (), icon, truncated=True)
    assert (
        http.build_http_observation(80, "http", "GET", "/f", cut, favicon=True).favicon_md5 is None
    )


def test_content_coding_is_undone_within_bounds() -> None:
    page = b"<title>gzipped</title>" + b" " * 100
    raw = http.RawResponse(200, ((b"Content-Encoding", b"gzip"),), gzip.compress(page))
    assert http.build_http_observation(80, "http", "GET", "/", raw).title == "gzipped"
    deflated = http.RawResponse(200, ((b"Content-Encoding", b"deflate"),), zlib.compress(page))
    assert http.build_http_observation(80, "http", "GET", "/", deflated).title == "gzipped"
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # 50 MiB of zeros in ~50 KiB
    raw = http.RawResponse(200, ((b"Content-Encoding", b"gzip"),), bomb)
    obs = http.build_http_observation(80, "http", "GET", "/", raw, max_body=65536)
    assert obs.truncated and len(obs.body) <= 65536
    broken = http.RawResponse(200, ((b"Content-Encoding", b"gzip"),), b"not gzip at all")
    assert http.build_http_observation(80, "http", "GET", "/", broken).body == "not gzip at all"


def test_invalid_utf8_body_and_bounded_headers() -> None:
    headers = tuple((f"X-{i}".encode(), b"v" * 5000) for i in range(300))
    raw = http.RawResponse(200, headers, b"\xff\xfe<title>caf\xe9</title>\x00")
    obs = http.build_http_observation(80, "http", "GET", "/", raw)
    assert len(obs.headers) == http.MAX_HEADERS
    assert all(len(v) <= http.MAX_HEADER_VALUE for _, v in obs.headers)
    assert obs.title == "caf\ufffd"
    assert "\x00" not in obs.body


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/login.htm", "http://127.0.200.1:8080/login.htm"),
        ("login.htm?x=1", "http://127.0.200.1:8080/login.htm?x=1"),
        ("https://127.0.200.1/", "https://127.0.200.1/"),
        ("http://127.0.200.1:80/webpages/login.html", "http://127.0.200.1/webpages/login.html"),
        ("http://127.0.201.1/", None),  # another host
        ("http://192.168.0.1/", None),
        ("//8.8.8.8/x", None),
        ("http://router.lan/", None),  # a name: never resolved
        ("ftp://127.0.200.1/", None),
        ("javascript:alert(1)", None),
        ("http://[::1]/", None),
        ("", None),
        (None, None),
    ],
)
def test_redirect_target_same_host_only(location: str | None, expected: str | None) -> None:
    assert http.redirect_target("http://127.0.200.1:8080/", location, "127.0.200.1") == expected


def test_recorded_redirect_to_other_host_is_not_a_target() -> None:
    raw = recorded("redirect_other_host.http")
    location = dict(http.decode_headers(raw.headers))["location"]
    assert http.redirect_target("http://127.0.200.1:18080/", location, "127.0.200.1") is None


def test_urls_and_error_descriptions() -> None:
    assert http.url_for("http", "127.0.0.1", 80) == "http://127.0.0.1/"
    assert http.url_for("https", "127.0.0.1", 8443, "/x") == "https://127.0.0.1:8443/x"
    assert http.url_for("http", "::1", 8080) == "http://[::1]:8080/"
    assert "no answer within 2 s" in http.describe_error(TimeoutError(), 2.0)
    assert "refused by the scope guard" in http.describe_error(
        http.OutOfScope("1.2.3.4 is outside the scan scope")
    )


# --------------------------------------------------------------------------- UPnP


def test_ssdp_reply_parsing() -> None:
    headers = upnp.parse_ssdp_response((DATA / "ssdp_tplink_reply.bin").read_bytes())
    assert headers is not None
    assert headers["location"] == "http://192.168.0.1:1900/gatedesc.xml"
    assert headers["server"] == "ipos/7.0 UPnP/1.0 TL-WR841N/8.0"
    assert headers["ext"] == ""
    assert upnp.parse_ssdp_response((DATA / "ssdp_notify.bin").read_bytes()) is None
    assert upnp.parse_ssdp_response(b"\xff\x00garbage") is None
    assert upnp.parse_ssdp_response(b"") is None
    lf_only = b"HTTP/1.1 200 OK\nLocation: http://x/\nServer: a\x01b\n\n"
    assert upnp.parse_ssdp_response(lf_only) == {"location": "http://x/", "server": "a\\x01b"}
    assert upnp.pick_reply([b"junk", lf_only])["location"] == "http://x/"  # type: ignore[index]


def test_msearch_is_unicast_to_the_target() -> None:
    message = upnp.build_msearch("127.0.200.1", 1900).decode()
    assert message.startswith("M-SEARCH * HTTP/1.1\r\n")
    assert "HOST: 127.0.200.1:1900\r\n" in message
    assert "239.255.255.250" not in message
    assert message.endswith("\r\n\r\n")


def test_tplink_description_hardware_revision_in_model_number() -> None:
    desc = upnp.parse_description(
        (DATA / "upnp_tplink_desc.xml").read_bytes(),
        location="http://192.168.0.1:1900/gatedesc.xml",
        server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
    )
    assert desc.manufacturer == "TP-Link"
    assert desc.model_name == "Archer C80"
    assert desc.model_number == "2.20"  # the root device's, not the embedded WANDevice's "1"
    assert desc.device_type == "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    assert desc.server == "ipos/7.0 UPnP/1.0 TL-WR841N/8.0"


@pytest.mark.parametrize(
    ("sample", "manufacturer", "model_name", "model_number", "friendly"),
    [
        ("miniupnpc/linksys_WAG200G_desc.xml", "LINKSYS", "Wireless-G ADSL Home Gateway",
         "WAG200G", "LINKSYS WAG200G Gateway"),
        ("miniupnpc/new_LiveBox_desc.xml", "Sagemcom", "Residential Livebox,(DSL,WAN Ethernet)",
         "3", None),
        ("fritzconnection/igddesc.xml", "AVM Berlin", "FRITZ!Box 7590", "avm", "FRITZ!Box 7590"),
        ("fritzconnection/tr64desc.xml", "AVM", "FRITZ!Box 7590", "- avm", None),
    ],
)  # fmt: skip
def test_real_upnp_samples(
    sample: str,
    manufacturer: str,
    model_name: str,
    model_number: str,
    friendly: str | None,
) -> None:
    desc = upnp.parse_description((SAMPLES / "upnp" / sample).read_bytes())
    assert desc.manufacturer == manufacturer
    assert desc.model_name == model_name
    assert desc.model_number == model_number
    if friendly:
        assert desc.friendly_name == friendly


@pytest.mark.parametrize(
    ("name", "words"),
    [("upnp_xml_bomb.xml", "unsafe XML"), ("upnp_external_entity.xml", "unsafe XML")],
)
def test_hostile_xml_is_refused_cleanly(name: str, words: str) -> None:
    with pytest.raises(upnp.UpnpError, match=words):
        upnp.parse_description((DATA / name).read_bytes())


@pytest.mark.parametrize(
    "xml",
    [b"", b"<root>", b"\xff\xfe\x00<", b"<root><nodevice/></root>", b"<a>" * 50000],
)
def test_malformed_xml_is_an_error_not_a_crash(xml: bytes) -> None:
    with pytest.raises(upnp.UpnpError):
        upnp.parse_description(xml)


def test_description_without_namespace_and_with_garbage_values() -> None:
    xml = (
        b"<root><device><modelName>\x7f[2J\xc2\x85x</modelName><manufacturer>  </manufacturer>"
        + (b"<modelNumber>" + b"9" * 1000 + b"</modelNumber></device></root>")
    )
    desc = upnp.parse_description(xml)
    assert desc.model_name == "\\x7f[2J\\x85x"
    assert desc.manufacturer is None
    assert desc.model_number == "9" * 256


# --------------------------------------------------------------------------- banners


@pytest.mark.parametrize(
    ("name", "port", "protocol", "text"),
    [
        ("banner_ssh_rosssh.bin", 22, "ssh", "SSH-2.0-ROSSSH"),
        ("banner_ssh_rosssh.bin", 53282, "ssh", "SSH-2.0-ROSSSH"),  # AyySSHush port
        ("banner_ftp_mikrotik.bin", 21, "ftp", "220 MikroTik FTP server (MikroTik 6.48.6) ready"),
        ("banner_telnet_busybox.bin", 23, "telnet", "TL-WR841N login:"),
        ("banner_telnet_busybox.bin", 2323, "telnet", "TL-WR841N login:"),
        ("banner_quad7_xlogin.bin", 7777, "tcp", "xlogin:"),
    ],
)
def test_recorded_banners(name: str, port: int, protocol: str, text: str) -> None:
    raw = (DATA / name).read_bytes()
    found = banner.decode_banner(raw, port)
    assert (found.port, found.protocol, found.text) == (port, protocol, text)
    assert found.raw_hex == raw[:64].hex()


def test_garbage_banner_is_escaped_and_bounded() -> None:
    raw = (DATA / "banner_garbage.bin").read_bytes()
    found = banner.decode_banner(raw, 12222)
    assert found.protocol == "tcp"
    assert len(found.text) <= banner.MAX_TEXT
    assert all(ch.isprintable() or ch in "\n\t" for ch in found.text)
    assert "\\x00" in found.text or "\\xff" in found.text
    assert "\x1b" not in found.text and "\x00" not in found.text
    huge = banner.decode_banner(b"\x80" * 100_000, 1)
    assert len(huge.text) <= banner.MAX_TEXT and len(huge.raw_hex) == 128


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(1, 65535))
def test_any_bytes_decode_to_a_printable_banner(raw: bytes, port: int) -> None:
    found = banner.decode_banner(raw, port)
    assert found.port == port
    assert found.protocol in ("ssh", "ftp", "telnet", "tcp")
    assert all(ch.isprintable() or ch in "\n\t" for ch in found.text)


def test_telnet_negotiation_stripping() -> None:
    assert banner.strip_telnet(b"plain") == (b"plain", False)
    assert banner.strip_telnet(b"\xff\xfb\x01a\xff\xffb\xff\xfa\x18\x01xx\xff\xf0c\xff") == (
        b"a\xffbc",
        True,
    )
    assert banner.strip_telnet(b"\xff\xfa\x18 never ends") == (b"", True)


def test_socks_replies() -> None:
    accepted = socks.parse_socks_reply(b"\x05\x00", 11288)
    assert accepted is not None
    assert (accepted.protocol, accepted.text, accepted.raw_hex) == ("socks5", "", "0500")
    refused = socks.parse_socks_reply(b"\x05\xff", 11288)
    assert refused is not None and refused.raw_hex == "05ff"
    assert socks.parse_socks_reply(b"", 11288) is None
    other = socks.parse_socks_reply(b"HT", 11288)
    assert other is not None and other.protocol == "tcp"
    assert socks.GREETING == b"\x05\x01\x00"


# --------------------------------------------------------------------------- TLS


def make_certificate(
    common_name: str = "Archer C7", org_unit: str | None = "RV340", self_signed: bool = True
) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cisco Systems, Inc."),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if org_unit:
        attrs.insert(2, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, org_unit))
    subject = x509.Name(attrs)
    issuer = (
        subject if self_signed else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some CA")])
    )
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_certificate_parsing() -> None:
    found = tls.parse_certificate(make_certificate(), 443)
    assert found.port == 443
    assert "OU=RV340" in found.subject and "CN=Archer C7" in found.subject
    assert found.subject == found.issuer and found.self_signed
    assert found.not_after == "2033-12-29T00:00:00+00:00"
    other = tls.parse_certificate(make_certificate(self_signed=False), 8443)
    assert other.issuer == "CN=Some CA" and not other.self_signed


def test_garbage_certificate_is_an_error() -> None:
    with pytest.raises(tls.TlsError):
        tls.parse_certificate(b"\x30\x03garbage", 443)


# --------------------------------------------------------------------------- SNMP


def encode_response(text: bytes, version: int = 1, error_status: int = 0) -> bytes:
    """Build a GetResponse datagram the way an agent sends it (pysnmp's own encoder)."""
    from pyasn1.codec.ber import encoder
    from pysnmp.proto import api

    module = api.PROTOCOL_MODULES[version]
    pdu = module.GetResponsePDU()
    module.apiPDU.set_defaults(pdu)
    module.apiPDU.set_error_status(pdu, error_status)
    module.apiPDU.set_varbinds(pdu, [(snmp.SYSDESCR_OID, module.OctetString(text))])
    message = module.Message()
    module.apiMessage.set_defaults(message)
    module.apiMessage.set_community(message, "public")
    module.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message)


def test_snmp_recorded_responses() -> None:
    draytek = b"Router Model: Vigor2960, Version: 1.5.1.4_Beta/1.5.1.4"
    assert snmp.parse_response(encode_response(draytek)) == draytek.decode()
    assert snmp.parse_response(encode_response(draytek, version=0)) == draytek.decode()
    cisco = b"Linux, Cisco Small Business RV345-K9, Version 1.0.03.21 \x00\xff"
    assert snmp.parse_response(encode_response(cisco)) == (
        "Linux, Cisco Small Business RV345-K9, Version 1.0.03.21 \\x00\\xff"
    )
    with pytest.raises(snmp.SnmpError, match="agent error"):
        snmp.parse_response(encode_response(b"x", error_status=2))
    with pytest.raises(snmp.SnmpError, match="malformed"):
        snmp.parse_response(b"\x30\x82garbage")


def test_snmp_result_interpretation() -> None:
    assert snmp.sysdescr_from_result("No SNMP response received before timeout", 0, ()) is None
    with pytest.raises(snmp.SnmpError):
        snmp.sysdescr_from_result("Unknown transport error", 0, ())
    with pytest.raises(snmp.SnmpError, match="without sysDescr"):
        snmp.sysdescr_from_result(None, 0, [("1.3.6.1.2.1.1.5.0", b"name")])
    assert snmp.sysdescr_from_result(None, 0, [(snmp.SYSDESCR_OID, b"x" * 2000)]) == "x" * 512


# --------------------------------------------------------------------------- ARP, TCP


def test_arp_table_and_vendor() -> None:
    table = arp.parse_arp_table((DATA / "arp.txt").read_text())
    assert table == {
        "192.168.1.1": "50:c7:bf:12:34:56",
        "192.168.1.40": "da:a1:19:00:00:01",
        "192.168.1.50": "00:1a:70:9b:5a:a8",
    }
    assert "TP-LINK" in (arp.mac_vendor("50:c7:bf:12:34:56") or "").upper()
    assert arp.mac_vendor("00:1a:70:9b:5a:a8") == "Cisco-Linksys, LLC"
    assert arp.mac_vendor("da:a1:19:00:00:01") is None  # locally administered (random)
    assert arp.mac_vendor("not a mac") is None
    assert arp.parse_arp_table("") == {}
    assert arp.read_arp_table(DATA / "missing-arp") == {}


def test_connect_errors_classified() -> None:
    assert tcp.classify_error(ConnectionRefusedError()) == "closed"
    assert tcp.classify_error(TimeoutError()) == "filtered"
    assert tcp.classify_error(OSError(errno.EHOSTUNREACH, "no route")) == "filtered"
    assert tcp.classify_error(OSError(errno.EMFILE, "too many open files")) == "error"

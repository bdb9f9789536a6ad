"""Each emulated device answers like the real one, checked with plain clients on loopback."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509
from defusedxml import ElementTree
from defusedxml.common import EntitiesForbidden
from pyasn1.codec.ber import decoder
from pysnmp.proto import api

from routerwatch.lab import Lab, LabDevice

BASE = "127.0.171.0"  # this module's own addresses (other suites use other bases)
NS = "{urn:schemas-upnp-org:device-1-0}"
MSEARCH = (
    'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
    "MX: 1\r\nST: {st}\r\n\r\n"
)
LOCALE_PATH = "/cgi-bin/luci/;stok=/locale?form=lang"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(base=BASE) as running:
        yield running


@pytest.fixture(scope="module")
def dev(lab: Lab) -> dict[str, LabDevice]:
    return {d.profile_id: d for d in lab.devices()}


# ----------------------------------------------------------------------------- clients


_client = httpx.Client(verify=False, timeout=3.0)  # self-signed device certificates


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    _client.close()


def http(addr: str, path: str = "/", port: int = 80, method: str = "GET", **kw) -> httpx.Response:
    scheme = "https" if port in (443, 8443) else "http"
    return _client.request(method, f"{scheme}://{addr}:{port}{path}", **kw)


def locale(addr: str, port: int = 80, referer: bool = True) -> httpx.Response:
    scheme = "https" if port == 443 else "http"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if referer:
        headers["Referer"] = f"{scheme}://{addr}/"
    return http(addr, LOCALE_PATH, port, "POST", content=b"operation=read", headers=headers)


def banner(
    addr: str,
    port: int,
    wait: float = 1.0,
    limit: int = 4096,
    idle: float = 0.2,
    total: float = 3.0,
) -> bytes:
    """What the server sends first: up to ``wait`` s for the first bytes, then until it
    pauses for ``idle`` s, closes, sends ``limit`` bytes or ``total`` s have passed."""
    data = b""
    deadline = time.monotonic() + total
    with socket.create_connection((addr, port), timeout=2) as s:
        s.settimeout(wait)
        while len(data) < limit and time.monotonic() < deadline:
            try:
                chunk = s.recv(limit - len(data))
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
            s.settimeout(max(0.01, min(idle, deadline - time.monotonic())))
    return data


def ssdp(
    addr: str, st: str = "ssdp:all", wait: float = 1.0, expect: int | None = None
) -> list[dict[str, str]]:
    """Unicast M-SEARCH; replies come at once, so stop 0.2 s after the last one (or as soon
    as ``expect`` replies are in)."""
    replies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(MSEARCH.format(st=st).encode(), (addr, 1900))
        while True:
            try:
                data, sender = s.recvfrom(4096)
            except TimeoutError:
                break
            s.settimeout(0.2)
            assert sender[0] == addr
            lines = data.decode("latin-1").split("\r\n")
            assert lines[0] == "HTTP/1.1 200 OK"
            pairs = (ln.partition(":") for ln in lines[1:])
            replies.append({k.strip().upper(): v.strip() for k, _, v in pairs if k})
            if expect is not None and len(replies) >= expect:
                break
    return replies


def cert_subject(addr: str, port: int = 443) -> str:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((addr, port), timeout=3) as raw, ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def _tlv(tag: int, content: bytes) -> bytes:
    assert len(content) < 128
    return bytes((tag, len(content))) + content


def snmp_get_sysdescr(addr: str, community: str, wait: float = 1.0) -> str | None:
    """Hand-built SNMPv2c GetRequest for sysDescr.0 (independent of the lab's encoder)."""
    oid = _tlv(0x06, bytes.fromhex("2b06010201010100"))
    varbind = _tlv(0x30, _tlv(0x30, oid + b"\x05\x00"))
    pdu = _tlv(0xA0, _tlv(0x02, b"\x2a") + _tlv(0x02, b"\x00") + _tlv(0x02, b"\x00") + varbind)
    msg = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x04, community.encode()) + pdu)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(msg, (addr, 161))
        try:
            data, _ = s.recvfrom(4096)
        except TimeoutError:
            return None
    p_mod = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    rsp, _ = decoder.decode(data, asn1Spec=p_mod.Message())
    pdu_rsp = p_mod.apiMessage.get_pdu(rsp)
    assert int(p_mod.apiPDU.get_request_id(pdu_rsp)) == 42
    (oid_rsp, value), *_ = p_mod.apiPDU.get_varbinds(pdu_rsp)
    assert str(oid_rsp) == "1.3.6.1.2.1.1.1.0"
    return str(value)


def upnp_description(addr: str) -> tuple[dict[str, str], bytes]:
    (reply,) = ssdp(addr, "upnp:rootdevice", expect=1)
    location = httpx.URL(reply["LOCATION"])
    assert location.host == addr, "LOCATION must point at the device itself"
    return reply, _client.get(str(location)).content


# ----------------------------------------------------------------------------- web UIs


def test_old_tp_link_realm_names_model_but_no_firmware(dev: dict[str, LabDevice]) -> None:
    d = dev["tplink-tl-wr841n-v8-quad7"]
    for path in ("/", "/userRpm/StatusRpm.htm", "/currentsetting.htm", "/favicon.ico"):
        r = http(d.address, path)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == 'Basic realm="TP-LINK Wireless N Router WR841N"'
        assert r.headers["server"] == "Router Webserver"
        assert d.identity is not None and d.identity.firmware
        assert d.identity.firmware not in r.text and "3.16.9" not in r.text


def test_netgear_currentsetting_without_login(dev: dict[str, LabDevice]) -> None:
    d = dev["netgear-r7000-old"]
    r = http(d.address, "/currentsetting.htm")
    assert r.status_code == 200
    fields = dict(line.split("=", 1) for line in r.text.splitlines() if "=" in line)
    assert fields["Firmware"] == "V1.0.9.88_10.2.88"
    assert fields["Model"] == "R7000" and fields["RegionTag"] == "R7000_NA"
    other = http(d.address, "/")
    assert other.status_code == 401
    assert other.headers["www-authenticate"] == 'Basic realm="NETGEAR R7000"'
    assert "unauth.cgi" in other.text


@pytest.mark.parametrize(
    ("pid", "model", "port"),
    [
        ("tplink-archer-ax21-v3-old", "Archer AX21", 80),
        ("tplink-archer-c80-v2-current", "Archer C80", 80),
        ("tplink-deco-m5-v3", "Deco M5", 80),
        ("tplink-omada-er605-v2", "ER605", 443),
    ],
)
def test_tp_link_luci_locale_names_the_model(
    dev: dict[str, LabDevice], pid: str, model: str, port: int
) -> None:
    addr = dev[pid].address
    r = locale(addr, port)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {
        "success": True,
        "data": {"locale": "en_US", "force": False, "model": model},
    }
    assert locale(addr, port, referer=False).status_code == 403
    firmware = dev[pid].identity.firmware  # type: ignore[union-attr]
    assert firmware not in http(addr, "/", port).text


def test_omada_redirects_http_to_https(dev: dict[str, LabDevice]) -> None:
    addr = dev["tplink-omada-er605-v2"].address
    r = http(addr)
    assert r.status_code == 302 and r.headers["location"] == f"https://{addr}/"


def test_dlink_server_header_carries_model_and_firmware(dev: dict[str, LabDevice]) -> None:
    r = http(dev["dlink-dir-850l-a1"].address)
    assert r.headers["server"] == "Linux, WEBACCESS/1.0, DIR-850L Ver 1.14WW"
    assert "Hardware Version : A1" in r.text


def test_asus_login_page_and_real_looking_404(dev: dict[str, LabDevice]) -> None:
    addr = dev["asus-rt-ax55-ayysshush"].address
    r = http(addr)
    assert r.status_code == 200 and "<title>ASUS Login</title>" in r.text
    assert "RT-AX55" in r.text and r.headers["server"] == "httpd/2.0"
    missing = http(addr, "/no/such/page.asp")
    assert missing.status_code == 404 and "404 Not Found" in missing.text


def test_mikrotik_webfig_shows_version_not_board(dev: dict[str, LabDevice]) -> None:
    r = http(dev["mikrotik-hex-6.48.6"].address)
    assert "<title>RouterOS router configuration page</title>" in r.text
    assert "RouterOS v6.48.6" in r.text and "RB750" not in r.text


def test_head_request_has_headers_but_no_body(dev: dict[str, LabDevice]) -> None:
    r = http(dev["dlink-dir-850l-a1"].address, method="HEAD")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 100


def test_tr069_answers_like_a_cwmp_server(dev: dict[str, LabDevice]) -> None:
    r = http(dev["zyxel-vmg8825-t50"].address, "/", 7547)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Digest realm="IgdAuthentication"')


# ----------------------------------------------------------------------------- UPnP


def test_every_ssdp_device_answers_unicast_search(lab: Lab) -> None:
    for d in lab.devices():
        if 1900 not in d.udp_ports or d.hostile == "tarpit":
            continue
        for st in ("upnp:rootdevice", "urn:schemas-upnp-org:device:InternetGatewayDevice:1"):
            (reply,) = ssdp(d.address, st, expect=1)
            assert reply["ST"] == st and reply["USN"].startswith("uuid:")
            assert reply["LOCATION"].startswith("http://")
            # A replayed capture without an SSDP reply has no SERVER header to replay.
            assert reply.get("SERVER") or d.profile_id.startswith("replay-")
        assert len(ssdp(d.address, "ssdp:all", expect=3)) == 3
    d = next(d for d in lab.devices() if d.profile_id == "netgear-r7000-old")
    assert ssdp(d.address, "urn:schemas-upnp-org:device:Printer:1", wait=0.3) == []


@pytest.mark.parametrize(
    ("pid", "manufacturer", "model_name", "model_number"),
    [
        ("tplink-tl-wr841n-v8-quad7", "TP-LINK", "TL-WR841N", "8.0"),
        ("tplink-archer-ax21-v3-old", "TP-Link", "Archer AX21", "3.0"),
        ("tplink-archer-c80-v2-current", "TP-Link", "Archer C80", "2.20"),
        ("asus-rt-ax55-ayysshush", "ASUSTeK Computer Inc.", "RT-AX55", "3.0.0.4.386"),
        ("netgear-r7000-old", "NETGEAR, Inc.", "R7000", "R7000"),
        ("zyxel-vmg8825-t50", "ZyXEL", "VMG8825-T50", "VMG8825-T50"),
        ("linksys-ea7500-v2", "Linksys", "Linksys Smart Wi-Fi Router", "EA7500"),
    ],
)
def test_upnp_description_parses_and_names_the_device(
    dev: dict[str, LabDevice], pid: str, manufacturer: str, model_name: str, model_number: str
) -> None:
    _reply, xml = upnp_description(dev[pid].address)
    device = ElementTree.fromstring(xml).find(f"{NS}device")
    assert device is not None
    assert device.findtext(f"{NS}manufacturer") == manufacturer
    assert device.findtext(f"{NS}modelName") == model_name
    assert device.findtext(f"{NS}modelNumber") == model_number
    assert device.findtext(f"{NS}deviceType") == (
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
    )


def test_upnp_server_header_names_old_tp_link_and_draytek(dev: dict[str, LabDevice]) -> None:
    reply, _ = upnp_description(dev["tplink-tl-wr841n-v8-quad7"].address)
    assert reply["SERVER"] == "ipos/7.0 UPnP/1.0 TL-WR841N/8.0"
    reply, _ = upnp_description(dev["draytek-vigor2960-old"].address)
    assert reply["SERVER"] == "DrayTek/Vigor2960 UPnP/1.0 miniupnpd/1.0"


def test_xml_bomb_is_a_bomb(dev: dict[str, LabDevice]) -> None:
    _reply, xml = upnp_description(dev["hostile-xml-bomb"].address)
    assert len(xml) < 4096 and b"<!ENTITY lol9" in xml
    with pytest.raises(EntitiesForbidden):
        ElementTree.fromstring(xml)


def test_garbage_ssdp_location_points_elsewhere(dev: dict[str, LabDevice]) -> None:
    d = dev["hostile-garbage"]
    (reply,) = ssdp(d.address, "upnp:rootdevice")
    assert httpx.URL(reply["LOCATION"]).host != d.address


# ----------------------------------------------------------------------------- banners


def test_quad7_xlogin_and_socks5(dev: dict[str, LabDevice]) -> None:
    addr = dev["tplink-tl-wr841n-v8-quad7"].address
    assert banner(addr, 7777) == b"xlogin:"
    with socket.create_connection((addr, 11288), timeout=2) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(16) == b"\x05\x00"
        s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50")  # a CONNECT: never relayed
        s.settimeout(2)
        assert s.recv(16) == b""
    with socket.create_connection((addr, 11288), timeout=2) as s:
        s.sendall(b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00")  # SOCKS4: closed without a word
        s.settimeout(2)
        assert s.recv(16) == b""


def test_xlogin_asks_for_a_password_and_hangs_up(dev: dict[str, LabDevice]) -> None:
    with socket.create_connection((dev["tplink-tl-wr841n-v8-quad7"].address, 7777), 2) as s:
        s.settimeout(2)
        assert s.recv(64) == b"xlogin:"
        s.sendall(b"root\r\n")
        assert s.recv(64) == b"password:"
        s.sendall(b"secret\r\n")
        assert s.recv(64) == b""


def test_compromise_banners_and_the_near_miss(dev: dict[str, LabDevice]) -> None:
    assert banner(dev["asus-rt-ax55-ayysshush"].address, 53282) == b"SSH-2.0-dropbear\r\n"
    assert banner(dev["asus-rt-ac68u-quad7"].address, 63256) == b"alogin:"
    decoy = banner(dev["decoy-esp-wifi-repeater"].address, 7777)
    assert decoy == b"CMD>" and b"xlogin" not in decoy
    page = http(dev["decoy-esp-wifi-repeater"].address, "/anything")
    assert page.status_code == 200 and "ESP WiFi NAT Router Config" in page.text


def test_service_banners(dev: dict[str, LabDevice]) -> None:
    assert banner(dev["asus-rt-ac68u-quad7"].address, 21) == (
        b"220 Welcome to ASUS RT-AC68U FTP service.\r\n"
    )
    m = dev["mikrotik-hex-6.48.6"].address
    assert banner(m, 21) == b"220 MikroTik FTP server (MikroTik 6.48.6) ready\r\n"
    assert banner(m, 22) == b"SSH-2.0-ROSSSH\r\n"
    telnet = banner(m, 23)
    assert telnet.startswith(b"\xff\xfd") and telnet.endswith(b"Login: ")
    assert b"MikroTik v6.48.6" in telnet
    assert banner(m, 8291, wait=0.5) == b"", "winbox waits for the client"
    z = dev["zyxel-usg-flex-100-old"].address
    assert banner(z, 21) == f"220 FTP Server (ZyWALL USG FLEX 100) [::ffff:{z}]\r\n".encode()
    assert banner(z, 22) == b"SSH-2.0-Zyxel SSH server\r\n"


def test_ftp_answers_login_attempts_then_quits(dev: dict[str, LabDevice]) -> None:
    with socket.create_connection((dev["mikrotik-hex-6.48.6"].address, 21), 2) as s:
        s.settimeout(2)
        assert s.recv(128).startswith(b"220 ")
        s.sendall(b"USER admin\r\n")
        assert s.recv(128) == b"530 Login incorrect\r\n"
        s.sendall(b"QUIT\r\n")
        assert s.recv(128) == b"221 Goodbye.\r\n"


# ----------------------------------------------------------------------------- TLS, SNMP


@pytest.mark.parametrize(
    ("pid", "expect"),
    [
        ("cisco-rv340-old", "OU=RV340,O=Cisco Systems\\, Inc.,L=Irvine"),
        ("cisco-rv320-old", "OU=RV320,"),
        ("draytek-vigor2960-old", "CN=Vigor Router,OU=DrayTek Support,O=DrayTek Corp."),
        ("ubiquiti-edgerouter-x", "CN=UbiquitiRouterUI,O=Ubiquiti Inc."),
    ],
)
def test_certificates_look_like_the_devices(
    dev: dict[str, LabDevice], pid: str, expect: str
) -> None:
    assert expect in cert_subject(dev[pid].address)


def test_tls_failure_device_fails_the_handshake(dev: dict[str, LabDevice]) -> None:
    addr = dev["hostile-tls-fail"].address
    with pytest.raises(ssl.SSLError):
        cert_subject(addr, 443)
    with pytest.raises(ssl.SSLError):
        cert_subject(addr, 8443)  # plain HTTP where TLS is expected


def test_snmp_answers_only_the_right_community(dev: dict[str, LabDevice]) -> None:
    d = dev["draytek-vigor2960-old"]
    assert d.snmp_community == "routerwatch-lab"
    descr = snmp_get_sysdescr(d.address, "routerwatch-lab")
    assert descr is not None and descr.startswith("DrayTek Corporation, Router Model: Vigor2960")
    assert snmp_get_sysdescr(d.address, "public", wait=0.5) is None
    assert snmp_get_sysdescr(dev["mikrotik-hex-6.48.6"].address, "routerwatch-lab") == (
        "RouterOS RB750Gr3"
    )


# ----------------------------------------------------------------------------- hostile


def test_tarpit_accepts_and_stays_silent(dev: dict[str, LabDevice]) -> None:
    addr = dev["hostile-tarpit"].address
    for port in (22, 80, 7777):
        with socket.create_connection((addr, port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(0.5)
            with pytest.raises(TimeoutError):
                s.recv(1)
    assert ssdp(addr, "upnp:rootdevice", wait=0.5) == []


def test_endless_body_keeps_sending(dev: dict[str, LabDevice]) -> None:
    addr = dev["hostile-endless-body"].address
    received = 0
    with httpx.stream("GET", f"http://{addr}/", timeout=3) as r:
        assert r.status_code == 200 and "content-length" not in r.headers
        for chunk in r.iter_bytes():
            received += len(chunk)
            if received > 2 * 1024 * 1024:
                break
    assert received > 2 * 1024 * 1024
    (reply,) = ssdp(addr, "upnp:rootdevice")
    with httpx.stream("GET", reply["LOCATION"], timeout=3) as r:
        head = next(r.iter_bytes())
    assert head.startswith(b"<?xml")


def test_garbage_banners_are_not_utf8_and_exceed_a_scanner_read(dev: dict[str, LabDevice]) -> None:
    addr = dev["hostile-garbage"].address
    for port, prefix in ((21, b"220 "), (22, b"SSH-2.0-"), (23, b"")):
        data = banner(addr, port, limit=16384)
        assert data.startswith(prefix) and len(data) > 4096
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    raw = banner_http(addr)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Server: Rou\xffter" in head
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def banner_http(addr: str) -> bytes:
    with socket.create_connection((addr, 80), timeout=2) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n".encode())
        s.settimeout(2)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data


def test_drip_sends_a_byte_at_a_time(dev: dict[str, LabDevice]) -> None:
    data = banner(dev["hostile-drip"].address, 80, wait=1.5, idle=1.5, total=1.8)
    assert 1 <= len(data) <= 3 and b"HTTP/1.1".startswith(data), data


# ----------------------------------------------------------------------------- honesty


def observable(d: LabDevice) -> str:
    """Everything a credential-less scan following the probe plan can see of one device."""
    parts: list[str] = []
    for port in d.ports:
        if port in (80, 8080, 7547, 5000, 49152, 443, 8443, 1900):
            for path in ("/", "/favicon.ico", "/currentsetting.htm"):
                r = http(d.address, path, port)
                parts += [r.text, str(r.headers)]
            r = locale(d.address, port)
            parts += [r.text, str(r.headers)]
        else:
            parts.append(banner(d.address, port, wait=0.3).decode("latin-1"))
        if port in (443, 8443):
            parts.append(cert_subject(d.address, port))
    if 1900 in d.udp_ports:
        reply, xml = upnp_description(d.address)
        parts += [str(reply), xml.decode()]
    return "\n".join(parts).lower()


def test_devices_reveal_exactly_what_the_profile_says(lab: Lab) -> None:
    for d in lab.devices():
        if d.identity is None:
            continue
        seen = observable(d)
        ident = d.identity
        assert ident.vendor and ident.model
        model_seen = ident.model.lower() in seen
        # Replayed captures label firmware only where the capture proves it.
        firmware_seen = bool(ident.firmware) and ident.firmware.lower() in seen
        assert model_seen == ("model" in d.reveals), f"{d.profile_id}: model shown={model_seen}"
        assert firmware_seen == ("firmware" in d.reveals), (
            f"{d.profile_id}: firmware shown={firmware_seen}"
        )

"""How the pieces of evidence are cut out of an Observation."""

from __future__ import annotations

from routerwatch.fingerprint.inputs import Input, extract_inputs
from routerwatch.models import Banner, HttpObservation, Observation, TlsCertificate, UpnpDescription


def _inputs(**kw: object) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in extract_inputs(Observation(address="127.0.0.1", **kw)):  # type: ignore[arg-type]
        out.setdefault(item.source, []).append(item.text)
    return out


def _http(**kw: object) -> HttpObservation:
    base: dict[str, object] = {
        "port": 80,
        "scheme": "http",
        "method": "GET",
        "path": "/",
        "status": 200,
    }
    base.update(kw)
    return HttpObservation(**base)  # type: ignore[arg-type]


def test_realm_and_whole_www_authenticate() -> None:
    got = _inputs(
        http=(
            _http(
                status=401,
                headers=(
                    ("www-authenticate", 'Basic realm="NETGEAR R7000"'),
                    ("www-authenticate", 'Digest realm="a \\"quoted\\" one", nonce="x"'),
                    ("www-authenticate", "Basic realm=bare"),
                ),
            ),
        )
    )
    assert got["http.realm"] == ["NETGEAR R7000", 'a "quoted" one', "bare"]
    assert got["http.wwwauth"][0] == 'Basic realm="NETGEAR R7000"'


def test_title_from_scanner_or_from_body() -> None:
    got = _inputs(
        http=(
            _http(title="  ASUS\n Login "),
            _http(path="/x", body="<html><TITLE>NETGEAR &amp; Co\n</TITLE></html>"),
        )
    )
    assert got["http.title"] == ["ASUS Login", "NETGEAR & Co"]


def test_server_error_responses_are_ignored_and_bodies_need_status_below_400() -> None:
    got = _inputs(
        http=(
            _http(status=500, headers=(("server", "x"),), title="t"),
            _http(status=404, body="nope", headers=(("server", "y"),)),
        )
    )
    assert got == {"http.server": ["y"]}


def test_luci_model_only_from_the_locale_post() -> None:
    path = "/cgi-bin/luci/;stok=/locale?form=lang"
    body = '{"success":true,"data":{"locale":"en_US","force":false,"model":"Archer AX21"}}'
    got = _inputs(
        http=(
            _http(method="POST", path=path, body=body),
            _http(method="GET", path=path, body=body),
            _http(method="POST", path=path, body="not json"),
            _http(method="POST", path=path, body='{"data": ["model"]}'),
        )
    )
    assert got["http.luci"] == ["Archer AX21"]


def test_currentsetting_needs_status_200_and_firmware_line() -> None:
    body = "Firmware=V1.0.4.84_10.0.58\r\nRegionTag=R7000_NA\r\n\r\nModel=R7000\r\n<br>\r\n"
    got = _inputs(
        http=(
            _http(path="/currentsetting.htm", body=body),
            _http(path="/currentsetting.htm", status=404, body=body),
            _http(path="/currentsetting.htm", body="<html>login</html>"),
        )
    )
    assert got["http.currentsetting"] == [
        "Firmware=V1.0.4.84_10.0.58\nRegionTag=R7000_NA\nModel=R7000"
    ]


def test_banners_per_protocol() -> None:
    got = _inputs(
        banners=(
            Banner(21, "ftp", "220-Welcome\r\n220 FTP server (MikroTik 6.48.6) ready\r\n"),
            Banner(22, "ssh", "SSH-2.0-ROSSSH\r\n"),
            Banner(2222, "ssh", "SSH-1.99-OpenSSH_3.9p1\r\n"),
            Banner(
                23, "telnet", "\\xff\\xfd\x18\\xff\\xfb\x01MikroTik v6.42.3 (stable)\r\nLogin: "
            ),
            Banner(
                2323,
                "telnet",
                "",
                raw_hex=(b"\xff\xfd\x18\xff\xfa\x18\x01\xff\xf0ZyXEL login:").hex(),
            ),
            Banner(21, "tcp", "220 Welcome to TP-LINK FTP server"),
            Banner(7777, "tcp", "xlogin:"),
            Banner(11288, "socks5", "", "0500"),
        )
    )
    assert got["banner.ftp"] == [
        "Welcome\r\nFTP server (MikroTik 6.48.6) ready",
        "Welcome to TP-LINK FTP server",
    ]
    assert got["banner.ssh"] == ["ROSSSH", "OpenSSH_3.9p1"]
    assert got["banner.telnet"] == ["MikroTik v6.42.3 (stable)\r\nLogin: ", "ZyXEL login:"]
    assert set(got) == {"banner.ftp", "banner.ssh", "banner.telnet"}


def test_upnp_fields_one_by_one_and_together() -> None:
    got = _inputs(
        upnp=UpnpDescription(
            server="ipos/7.0 UPnP/1.0 TL-WR841N/8.0",
            manufacturer="TP-Link",
            model_name="Archer  C80",
            model_number="2.20",
        )
    )
    assert got["upnp.server"] == ["ipos/7.0 UPnP/1.0 TL-WR841N/8.0"]
    assert got["upnp.model_name"] == ["Archer C80"]
    assert got["upnp"] == [
        "manufacturer=TP-Link\nmodel_name=Archer C80\nmodel_number=2.20\n"
        "model_description=\nfriendly_name="
    ]
    assert "upnp.friendly_name" not in got


def test_tls_snmp_mac_and_labels() -> None:
    items = extract_inputs(
        Observation(
            address="127.0.0.1",
            http=(_http(port=8443, scheme="https", favicon_md5="ABCDEF"),),
            tls=(TlsCertificate(8443, "CN=x", "CN=x"),),
            snmp_sysdescr=" RouterOS RB1100 ",
            mac_vendor="Routerboard.com",
        )
    )
    assert items == [
        Input("http.favicon", "http.favicon:8443", "abcdef"),
        Input("tls.subject", "tls.subject:8443", "CN=x"),
        Input("snmp.sysdescr", "snmp.sysdescr", "RouterOS RB1100"),
        Input("mac", "mac", "Routerboard.com"),
    ]


def test_inputs_are_bounded() -> None:
    got = _inputs(
        http=(_http(headers=(("server", "x" * 100_000),), body="y" * 200_000),),
        banners=(Banner(22, "ssh", "SSH-2.0-" + "z" * 1000),),
        upnp=UpnpDescription(model_name="m" * 10_000),
        snmp_sysdescr="s" * 10_000,
    )
    assert len(got["http.server"][0]) == 512
    assert len(got["http.body"][0]) == 65536
    assert len(got["banner.ssh"][0]) == 255  # RFC 4253 bound
    assert len(got["upnp.model_name"][0]) == 256
    assert len(got["snmp.sysdescr"][0]) == 1024

"""Readers on real-format fixtures (tests/bulk/fixtures/SOURCES.md) and on junk."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import zstandard

from routerwatch.bulk.dataset import plan_chunks, read_chunk
from routerwatch.bulk.io import DatasetError
from routerwatch.bulk.readers import READERS, detect
from routerwatch.bulk.record import ReadStats, ScanRecord, merge_records

FIXTURES = Path(__file__).parent / "fixtures"


def read_all(
    path: Path, fmt: str | None = None, chunk: int = 32 << 20
) -> tuple[list[ScanRecord], ReadStats]:
    stats = ReadStats()
    out: list[ScanRecord] = []
    for c in plan_chunks([path], fmt, chunk):
        out.extend(read_chunk(c, stats))
    return out, stats


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("zgrab2-testdata.jsonl", "zgrab2"),
        ("zgrab2-routers.jsonl", "zgrab2"),
        ("masscan.list", "masscan-list"),
        ("masscan.json", "masscan-json"),
        ("masscan.ndjson", "masscan-json"),
        ("nmap-scan.xml", "nmap"),
        ("shodan-banners.jsonl", "shodan"),
        ("censys-hosts.jsonl", "censys"),
        ("censys-view-host.json", "censys"),
    ],
)
def test_detects_format(name: str, reader: str) -> None:
    assert detect(FIXTURES / name).name == reader


def test_zgrab2_real_output_maps_http_tls_ssh_telnet_ftp() -> None:
    records, stats = read_all(FIXTURES / "zgrab2-testdata.jsonl")
    assert stats.malformed == 0 and len(records) == 6
    by_port = {(r.observation.address, p): r for r in records for p in r.observation.open_ports}
    http = by_port[("172.17.0.3", 80)].observation.http[0]
    assert http.status == 200 and http.header("server") == "lighttpd/1.4.35"
    https = by_port[("172.17.0.3", 443)].observation
    assert https.http[0].scheme == "https" and https.tls[0].subject == "CN=target"
    ssh = by_port[("172.17.0.3", 22)].observation.banners[0]
    assert ssh.protocol == "ssh" and ssh.text.startswith("SSH-2.0-OpenSSH_7.2p2")
    telnet = by_port[("172.17.0.2", 23)].observation.banners[0]
    assert telnet.protocol == "telnet" and "login:" in telnet.text
    ftp = by_port[("172.17.0.3", 21)].observation.banners[0]
    assert ftp.protocol == "ftp" and "vsFTPd 3.0.3" in ftp.text
    amqp = next(r for r in records if r.observation.address == "165.227.114.176")
    assert "amqp091" in amqp.extra  # unmapped module kept in the bag


def test_zgrab2_banner_and_socks5_modules_and_junk() -> None:
    records, stats = read_all(FIXTURES / "zgrab2-routers.jsonl")
    assert stats.malformed == 3  # the three junk lines, counted, not fatal
    assert len(records) == 40
    socks = [b for r in records for b in r.observation.banners if b.protocol == "socks5"]
    assert socks and all(b.raw_hex == "0500" for b in socks)
    assert any(
        b.text.startswith("xlogin:") and b.port == 7777
        for r in records
        for b in r.observation.banners
    )


@pytest.mark.parametrize("name", ["masscan.list", "masscan.json", "masscan.ndjson"])
def test_masscan_real_output(name: str) -> None:
    records, stats = read_all(FIXTURES / name)
    assert stats.malformed == 0 and len(records) == 8
    merged = merge_records(records).observation
    assert merged.address == "93.184.216.34" and merged.open_ports == (80, 443)
    servers = {h.header("server") for h in merged.http} - {None}
    assert servers and all(s.startswith("ECS (sec/") for s in servers)
    assert {h.status for h in merged.http} >= {404}
    assert any(h.title == "404 - Not Found" for h in merged.http)
    bag = merge_records(records).extra
    assert "icmp:0" in bag and "ssl:443" in bag


def test_nmap_real_xml() -> None:
    records, stats = read_all(FIXTURES / "nmap-scan.xml")
    assert stats.malformed == 0 and len(records) == 1
    r = records[0]
    assert r.observation.address == "45.33.32.156"
    assert r.observation.open_ports == (22, 80, 9929, 31337)
    assert "Apache httpd" in r.extra["nmap.service:80"]
    assert "udp:123" in r.extra


def test_nmap_refuses_entities(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><nmaprun><host><address addr="10.0.0.1" '
        'addrtype="ipv4"/><hostnames><hostname name="&b;"/></hostnames></host></nmaprun>'
    )
    records, stats = read_all(bomb)
    assert records == [] and stats.malformed == 1 and "XML" in stats.errors[0]


def test_shodan_banners_map_http_favicon_ssl_and_country() -> None:
    records, stats = read_all(FIXTURES / "shodan-banners.jsonl")
    assert stats.malformed == 3 and len(records) == stats.lines - 4  # 3 junk + 1 blank line
    assert all(r.country for r in records) and all(r.asn for r in records)
    merged = {
        a: merge_records([r for r in records if r.observation.address == a])
        for a in {r.observation.address for r in records}
    }
    quad7 = [m for m in merged.values() if any(b.port == 7777 for b in m.observation.banners)]
    assert quad7 and all(11288 in m.observation.open_ports for m in quad7)


def test_shodan_favicon_hash_and_md5(tmp_path: Path) -> None:
    import base64
    import hashlib

    icon = b"\x00\x00\x01\x00fake-ico"
    line = (
        '{"ip_str": "10.1.2.3", "port": 80, "transport": "tcp", "data": "HTTP/1.1 200 OK\\r\\n'
        'Server: Router Webserver\\r\\n\\r\\n", "_shodan": {"module": "http"}, "http": {"html": '
        '"<title>x</title>", "favicon": {"hash": -1234567, "data": "'
        + base64.b64encode(icon).decode()
        + '", "location": "/favicon.ico"}}, "vulns": {"CVE-2023-1389": {}}}\n'
    )
    path = tmp_path / "s.jsonl"
    path.write_text(line)
    (r,), _stats = read_all(path)
    h = r.observation.http[0]
    assert h.favicon_md5 == hashlib.md5(icon).hexdigest()
    assert h.header("server") == "Router Webserver" and h.title == "x"
    assert h.favicon_mmh3 == -1234567
    assert "CVE-2023-1389" in r.extra["vulns"]


def test_censys_hosts_and_view() -> None:
    records, stats = read_all(FIXTURES / "censys-hosts.jsonl")
    assert stats.malformed == 3 and len(records) == 40
    assert any(t.subject for r in records for t in r.observation.tls)
    (view,), vstats = read_all(FIXTURES / "censys-view-host.json")
    assert vstats.malformed == 0
    assert view.observation.address == "8.8.8.8" and view.country == "US"
    assert view.extra.get("udp:53") == "DNS"


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_compressed_is_transparent(tmp_path: Path, kind: str) -> None:
    data = (FIXTURES / "masscan.list").read_bytes()
    path = tmp_path / "scan.bin"  # the name says nothing: the magic bytes decide
    path.write_bytes(
        gzip.compress(data) if kind == "gzip" else zstandard.ZstdCompressor().compress(data)
    )
    records, stats = read_all(path)
    assert len(records) == 8 and stats.malformed == 0


def test_truncated_gzip_is_counted_not_fatal(tmp_path: Path) -> None:
    data = gzip.compress((FIXTURES / "zgrab2-routers.jsonl").read_bytes() * 40)
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    records, stats = read_all(path, "zgrab2")
    assert 0 < len(records) < 40 * 40 and stats.malformed >= 1


def test_overlong_line_is_skipped_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import routerwatch.bulk.io as bio

    path = tmp_path / "long.jsonl"
    good = (FIXTURES / "shodan-banners.jsonl").read_bytes().splitlines()[0]
    path.write_bytes(good + b"\n" + b'{"ip_str": "' + b"x" * 5000 + b'"}\n' + good + b"\n")
    monkeypatch.setattr(bio, "MAX_LINE", 2048)
    stats = ReadStats()
    out = []
    for c in plan_chunks([path], "shodan"):
        with open(c.path, "rb") as f:
            lines = list(bio.iter_lines(f, max_line=2048))
        for number, line in lines:
            stats.lines += 1
            if line is None:
                stats.bad(str(number), "too long")
            else:
                out.append(line)
    assert len(out) == 2 and stats.malformed == 1


def test_byte_range_chunks_read_every_line_once(tmp_path: Path) -> None:
    whole, _ = read_all(FIXTURES / "shodan-banners.jsonl")
    split, stats = read_all(FIXTURES / "shodan-banners.jsonl", chunk=997)
    assert len(plan_chunks([FIXTURES / "shodan-banners.jsonl"], None, 997)) > 5
    assert [r.observation for r in split] == [r.observation for r in whole]
    assert stats.malformed == 3


def test_unknown_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"hello world\n")
    with pytest.raises(DatasetError, match="not a known scan format"):
        plan_chunks([junk])
    with pytest.raises(DatasetError, match="no such file"):
        plan_chunks([tmp_path / "nope"])
    with pytest.raises(DatasetError, match="unknown dataset format"):
        plan_chunks([junk], "csv")
    assert set(READERS) == {"zgrab2", "masscan-list", "masscan-json", "nmap", "shodan", "censys"}


def test_spill_codec_round_trips_every_observation_field() -> None:
    """The spill codec must carry every Observation field (a new field fails here)."""
    import msgspec

    from routerwatch.bulk import codec
    from routerwatch.models import Observation, replace

    records, _ = read_all(FIXTURES / "zgrab2-routers.jsonl")
    for r in records:
        assert codec.loads(codec.dumps(r)) == r
    full = {f.name: f for f in msgspec.structs.fields(Observation)}
    obs = replace(
        records[0].observation,
        snmp_sysdescr="x",
        mac="00:11:22:33:44:55",
        mac_vendor="v",
        errors=("e",),
        elapsed=1.5,
        **({"snmp_sysobjectid": "1.3.6.1.4.1.9"} if "snmp_sysobjectid" in full else {}),
    )
    r = ScanRecord(obs, "t", "US", "AS1", "now", {"k": "v"})
    assert codec.loads(codec.dumps(r)) == r


def test_http_from_parts_agrees_with_the_scanners_builder() -> None:
    """Readers build HttpObservations without the bytes round trip; the result must equal the
    scanner's build_http_observation on the same answer (titles, headers, binary bodies)."""
    from routerwatch.bulk.readers._common import http_from_parts
    from routerwatch.scan.probes.http import RawResponse, build_http_observation

    bodies = [
        "<html><head><title>TL-WR841N</title></head><body>x</body></html>",
        "<!-- <title>not this</title> --><TITLE lang=en>Real  &amp; one</TITLE>",
        "<script>var s='</title>'</script><title>After script</title>",
        "<title>unclosed <b>bold</b>",
        "no title at all",
        "<title></title><title>second</title>",
        "nul\x00byte <title>t</title>",
    ]
    records, _ = read_all(FIXTURES / "zgrab2-routers.jsonl")
    bodies += [h.body for r in records for h in r.observation.http]
    for body in bodies:
        for headers in (
            [("Server", " Router Webserver "), ("Content-Type", "text/html")],
            [("Content-Type", "image/png")],
        ):
            mine = http_from_parts(80, "http", 200, headers, body)
            raw = RawResponse(
                200, tuple((k.encode(), v.encode()) for k, v in headers), body.encode("utf-8")
            )
            theirs = build_http_observation(80, "http", "GET", "/", raw, max_body=65536)
            assert mine == theirs, body


def test_zgrab2_tls_module(tmp_path: Path) -> None:
    """zgrab2's tls module (result = the TLS log) on the real handshake of http-https."""
    import orjson

    https = orjson.loads((FIXTURES / "zgrab2-testdata.jsonl").read_bytes().splitlines()[2])
    handshake = https["data"]["http"]["result"]["response"]["request"]["tls_log"]
    line = {"ip": "10.0.0.9", "data": {"tls": {"status": "success", "protocol": "tls",
                                              "result": handshake}}}  # fmt: skip
    path = tmp_path / "tls.jsonl"
    path.write_bytes(orjson.dumps(line) + b"\n")
    (record,), stats = read_all(path)
    assert stats.malformed == 0
    assert record.observation.open_ports == (443,)
    assert record.observation.tls[0].subject == "CN=target"


def test_nmap_scripts_from_generated_router_hosts(tmp_path: Path) -> None:
    from routerwatch.bulk.generate import write_dataset
    from routerwatch.fingerprint import Fingerprinter

    path = tmp_path / "n.xml"
    write_dataset(path, "nmap", 27, seed=3, router_share=1.0, each_lab_once=True)
    records, stats = read_all(path)
    assert stats.malformed == 0 and len(records) == 27
    fp = Fingerprinter()
    vendors = {fp.identify(r.observation).vendor for r in records}
    assert {"TP-Link", "NETGEAR", "ASUS", "MikroTik"} <= vendors
    assert any(b.text.startswith("xlogin:") for r in records for b in r.observation.banners)


def _routed(path: Path) -> tuple[list[ScanRecord], ReadStats]:
    """Records of an nmap file the bulk way: cut into <host> elements, each parsed alone."""
    from routerwatch.bulk.dataset import parse_line
    from routerwatch.bulk.io import head, open_binary

    reader = READERS["nmap"]
    assert reader.splits(head(path))
    stats = ReadStats()
    out: list[ScanRecord] = []
    with open_binary(path) as stream:
        for address, number, element in reader.route_stream(stream, str(path), stats):
            assert b"\n" not in element
            records = parse_line("nmap", f"{path}: host {number}", element, stats)
            assert all(r.observation.address == address for r in records)
            out.extend(records)
    return out, stats


def test_nmap_elements_give_the_whole_document_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from routerwatch.bulk.generate import write_dataset
    from routerwatch.bulk.readers import nmap

    monkeypatch.setattr(nmap, "_BLOCK", 333)  # elements cut across read blocks

    generated = tmp_path / "g.xml"
    write_dataset(generated, "nmap", 300, seed=4, router_share=0.5)
    real = (FIXTURES / "nmap-scan.xml").read_bytes()
    crlf = tmp_path / "crlf.xml"
    crlf.write_bytes(real.replace(b"\n", b"\r\n"))
    packed = tmp_path / "n.xml.gz"  # compressed
    packed.write_bytes(gzip.compress(generated.read_bytes()))
    for path in (FIXTURES / "nmap-scan.xml", crlf, generated, packed):
        whole, s1 = read_all(path)
        routed, s2 = _routed(path)
        assert whole and routed == whole, path
        assert (s2.lines, s2.malformed) == (s1.lines, s1.malformed) == (len(whole), 0)


def test_nmap_bad_elements_are_counted_alone(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    good = '<host><address addr="10.0.0.{}" addrtype="ipv4"/><ports/></host>\n'
    path.write_text(
        '<?xml version="1.0"?>\n<nmaprun>\n' + good.format(1)
        + '<host><address addr="10.0.0.2" addrtype="ipv4"/><ports></host>\n'  # unclosed
        + "<host><status state='up'/></host>\n"  # no address
        + '<host><address addr="10.0.0.3" addrtype="ipv4"/><!-- </host>\n'  # open comment
        + good.format(4) + '<host><address addr="10.0.0.5" addrtype="ipv4"/>'  # file ends
    )  # fmt: skip
    records, stats = _routed(path)
    assert [r.observation.address for r in records] == ["10.0.0.1", "10.0.0.4"]
    assert stats.malformed == 4, stats.errors


def test_nmap_with_an_internal_dtd_is_read_whole(tmp_path: Path) -> None:
    from routerwatch.bulk.dataset import route_chunk

    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa">]><nmaprun><host>'
        '<address addr="10.0.0.1" addrtype="ipv4"/><hostname name="&a;"/></host></nmaprun>'
    )
    assert not READERS["nmap"].splits(bomb.read_bytes())
    assert READERS["nmap"].splits((FIXTURES / "nmap-scan.xml").read_bytes())
    stats = ReadStats()
    (chunk,) = plan_chunks([bomb])
    assert list(route_chunk(chunk, stats)) == [] and stats.malformed == 1


def test_nmap_element_cannot_declare_entities() -> None:
    from routerwatch.bulk.readers.interface import MalformedRecord

    reader = READERS["nmap"]
    for element in (
        b'<host><!DOCTYPE x [<!ENTITY a "b">]><address addr="10.0.0.1" addrtype="ipv4"/></host>',
        b'<host><!ENTITY a "b"><address addr="10.0.0.1" addrtype="ipv4"/></host>',
        b'<host><address addr="10.0.0.1" addrtype="ipv4"/><hostname name="&a;"/></host>',
        b'<host><address addr="10.0.0.1" addrtype="ipv4"/><hostname name="&#0;"/></host>',
    ):
        with pytest.raises(MalformedRecord):
            reader.parse_line(element)
    ok = b'<host><address addr="10.0.0.1" addrtype="ipv4"/></host>'
    assert reader.parse_line(ok)[0].observation.address == "10.0.0.1"  # the parser recovered


def test_nmap_elements_parse_in_several_threads(tmp_path: Path) -> None:
    """Dask workers may run tasks in threads: each has its own element parser."""
    from concurrent.futures import ThreadPoolExecutor

    from routerwatch.bulk.generate import write_dataset

    path = tmp_path / "t.xml"
    write_dataset(path, "nmap", 400, seed=8, router_share=0.5)
    whole, _ = read_all(path)
    lines = [ln for ln in path.read_bytes().splitlines() if ln.startswith(b"<host")]
    reader = READERS["nmap"]
    with ThreadPoolExecutor(4) as pool:
        parsed = list(pool.map(lambda ln: reader.parse_line(ln)[0], lines * 3))
    assert parsed == whole * 3

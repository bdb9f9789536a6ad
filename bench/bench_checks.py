"""Benchmark of the indicator checks, the config audit and the assessment.

    .venv/bin/python bench/bench_checks.py

1. ``checks.evaluate`` over a mix of observations (infected, console near-miss, exposed, empty).
2. ``audit-config`` on the sample exports of tests/fixtures/configs, and on a worst-case text
   export at the 16 MiB size limit (about 400k settings, two indicators).
3. ``assess`` of a device with 40 findings and 3 indicators.
Figures go to stdout; bench/results/checks.md holds the measured ones.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from routerwatch.assess import assess
from routerwatch.checks import evaluate
from routerwatch.checks.config_audit import run_audit
from routerwatch.checks.engine import observation_from_dict
from routerwatch.models import DeviceIdentity, Finding

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "tests/fixtures/configs"


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds per call over ``repeat`` calls."""
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def bench_evaluate() -> None:
    snippets = [
        {
            "open_ports": [7777, 11288, 80],
            "banners": [
                {
                    "port": 7777,
                    "protocol": "telnet",
                    "text": "",
                    "raw_hex": "fffb01fffb03786c6f67696e3a20",
                },
                {"port": 11288, "protocol": "socks5", "text": "", "raw_hex": "0500"},
            ],
            "http": [
                {"port": 80, "status": 401, "headers": [["www-authenticate", 'Basic realm="x"']]}
            ],
        },
        {"open_ports": [7777], "banners": [{"port": 7777, "text": "CMD>"}]},
        {
            "open_ports": [21, 23, 7547, 53282],
            "banners": [{"port": 53282, "protocol": "ssh", "text": "SSH-2.0-dropbear"}],
            "upnp": {"manufacturer": "ASUS"},
        },
        {},
    ]
    observations = [observation_from_dict(s) for s in snippets] * 2500
    t = time.perf_counter()
    for obs in observations:
        evaluate(obs)
    dt = time.perf_counter() - t
    print(
        f"evaluate: {len(observations)} observations in {dt:.2f} s = "
        f"{dt / len(observations) * 1e6:.0f} us each"
    )


def bench_audit() -> None:
    for path in sorted(CONFIGS.iterdir()):
        if path.suffix in (".pub",):
            continue
        dt = timed(partial(run_audit, path), 20)
        print(f"audit {path.name} ({path.stat().st_size} B): {dt * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big-nvram.txt"
        lines, size, i = [], 0, 0
        while size < 16 * 2**20 - 200:
            line = f"key_{i}_x=value{i} 192.168.1.{i % 250}\n"
            lines.append(line)
            size += len(line)
            i += 1
        lines.append("wan_dns1_x=203.0.113.5\nvts_rulelist=<a>7777>192.168.1.2>7777>TCP>\n")
        big.write_text("".join(lines)[: 16 * 2**20])
        dt = timed(lambda: run_audit(big), 3)
        result = run_audit(big)
        print(
            f"audit worst case text {big.stat().st_size / 2**20:.1f} MiB, "
            f"{result.settings} settings: {dt:.2f} s, {len(result.indicators)} indicators"
        )
        # TP-Link style XML (unquoted attributes) full of port mappings, just under the limit
        xml = Path(tmp) / "big-config.xml"
        entries, n = [], 0
        size = 20
        while True:
            e = (
                f"<PortMapping instance={n} >\n<PortMappingEnabled val=1 />\n"
                f"<ExternalPort val={1000 + n % 5000} />\n<InternalPort val=80 />\n"
                f"<InternalClient val=192.168.0.{n % 250} />\n</PortMapping>\n"
            )
            if size + len(e) > 16 * 2**20:
                break
            entries.append(e)
            size += len(e)
            n += 1
        xml.write_text("<DslCpeConfig>\n" + "".join(entries) + "</DslCpeConfig>\n")
        dt = timed(lambda: run_audit(xml), 1)
        result = run_audit(xml)
        print(
            f"audit worst case XML {xml.stat().st_size / 2**20:.1f} MiB, {n} port mappings, "
            f"{result.settings} settings: {dt:.2f} s"
        )


def bench_assess() -> None:
    ident = DeviceIdentity(vendor="TP-Link", model="Archer C7", hardware="2", firmware="3.15.1")
    findings = [
        Finding(
            f"CVE-2024-{n}",
            "affected" if n % 3 else "possible",
            "x",
            kev=n % 7 == 0,
            cvss=5 + n % 5,
            epss=n / 100,
            fixed_in=f"3.15.{n % 6}",
        )
        for n in range(40)
    ]
    obs = observation_from_dict(
        {"open_ports": [7777, 23], "banners": [{"port": 7777, "text": "xlogin:"}]}
    )
    inds = evaluate(obs, ident)
    dt = timed(lambda: assess(ident, findings, inds, address="10.0.0.1"), 200)
    print(f"assess: 40 findings + {len(inds)} indicators: {dt * 1000:.2f} ms")


if __name__ == "__main__":
    bench_evaluate()
    bench_audit()
    bench_assess()

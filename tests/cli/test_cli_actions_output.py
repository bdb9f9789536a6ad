"""Item 4: actions merged and ordered the same everywhere; the table at 80 and wide columns;
-q / --verbose; one warning per problem. Item 5 (CLI part): flag errors name the typed flag,
"no host answered", an estimate and --yes for large ranges."""

from __future__ import annotations

import io
import json
import socket

import pytest
from clilib import invoke
from rich.console import Console

from routerwatch.assess import assess
from routerwatch.assess.remediation import bound_compare, compare_firmware, plan_actions
from routerwatch.models import Action, Assessment, DeviceIdentity, Finding, Indicator, Report
from routerwatch.report import print_table, render
from routerwatch.report.summary import top_actions

AX21 = ("check", "TP-Link Archer AX21 v3", "--firmware", "1.1.2 Build 20220714 rel.46227")


def _f(cve: str, fixed: str | None, **kw: object) -> Finding:
    return Finding(cve, "affected", "r", fixed_in=fixed, **kw)  # type: ignore[arg-type]


def test_one_update_action_per_device_with_the_rest_folded_in() -> None:
    ident = DeviceIdentity(vendor="ASUS", model="RT-AX55")
    findings = [
        _f("CVE-2023-1", "3.0.0.4.386_51598"),
        _f("CVE-2023-2", "later than 3.0.0.4.386_51000"),  # versionEndIncluding bound
        _f("CVE-2023-3", "3.0.0.4.388_24209", kev=True),
        _f("CVE-2019-9", "9.9.9-other-scheme"),
    ]
    actions = plan_actions(ident, findings, [])
    updates = [a for a in actions if a.kind == "update"]
    assert len(updates) == 1
    (upd,) = updates
    assert upd.text.startswith("Update the firmware to 3.0.0.4.388_24209 or later")
    assert set(upd.clears) == {"CVE-2023-1", "CVE-2023-2", "CVE-2023-3", "CVE-2019-9"}
    assert "also:" in upd.text  # the incomparable fix is folded in, not a second action


def test_later_than_bounds_compare() -> None:
    cmp = bound_compare(lambda a, b: compare_firmware("ASUS", a, b))
    assert cmp("3.0.0.4.388_1", "later than 3.0.0.4.386_9") == 1  # above the bound: clears
    assert cmp("3.0.0.4.386_9", "later than 3.0.0.4.386_9") == -1  # the bound itself: not
    assert cmp("later than 3.0.0.4.388_1", "3.0.0.4.386_9") == 1


def _compromised(address: str, model: str) -> Assessment:
    ind = Indicator("quad7-xlogin-7777", "compromise", "Quad7 shell", "high",
                    campaign="CovertNetwork-1658 / Quad7")
    a = assess(DeviceIdentity(vendor="TP-Link", model=model), [], [ind], address=address)
    return a


def _report(*hosts: Assessment) -> Report:
    return Report(assessments=hosts, generated="2026-12-03T00:00:00+00:00", tool_version="t")


def test_isolate_comes_before_factory_reset_in_every_format() -> None:
    hosts = [_compromised(f"192.0.2.{n}", "TL-WR841N") for n in range(1, 4)]
    report = _report(*hosts)
    top = top_actions(report)
    texts = [a["text"] for a in top]
    isolates = [i for i, t in enumerate(texts) if t.startswith("Isolate")]
    reset = next(i for i, t in enumerate(texts) if t.startswith("Factory-reset"))
    assert len(isolates) == 3 and max(isolates) < reset  # every isolation before the reset
    # JSON, HTML and the table list them in the same order
    assert [a["text"] for a in json.loads(render(report, "json"))["summary"]["top_actions"]] \
        == texts
    html = render(report, "html")
    assert html.index("Isolate TP-Link TL-WR841N at 192.0.2.3") < html.index("Factory-reset")
    table = render(report, "table")
    assert table.index("Isolate TP-Link") < table.index("Factory-reset")


def test_updates_another_update_covers_are_folded_in_across_devices() -> None:
    def host(address: str, actions: tuple[Action, ...]) -> Assessment:
        return Assessment(address=address, identity=DeviceIdentity(vendor="ASUS", model="X"),
                          actions=actions)

    big = Action(1, "update", "Update the firmware to 3.0.0.4.388_24209 or later",
                 ("CVE-1", "CVE-2", "CVE-3"))
    small = Action(1, "update", "Update the firmware to 3.0.0.4.386_51685 or later",
                   ("CVE-1", "CVE-2"))
    other = Action(1, "update", "Update the firmware to 9.0 or later", ("CVE-1",))
    report = _report(host("192.0.2.1", (big,)), host("192.0.2.2", (small,)),
                     Assessment(address="192.0.2.3", identity=DeviceIdentity(vendor="Zyxel"),
                                actions=(other,)))
    top = top_actions(report)
    assert [a["text"] for a in top] == [big.text, other.text]  # Zyxel's is not ASUS's
    assert top[0]["hosts"] == ["192.0.2.1", "192.0.2.2"] and top[0]["folded"] == [small.text]


@pytest.mark.parametrize("width", [80, 200])
def test_table_readable_and_addresses_whole(width: int) -> None:
    v6 = "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1"
    hosts = [_compromised(v6, "Archer C7"), _compromised("192.168.100.200", "Archer C7")]
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False)
    print_table(_report(*hosts), console)
    text = out.getvalue()
    assert all(len(line) <= min(width, 120) for line in text.splitlines())
    actions = text[text.index("Top actions"):]
    assert v6 in actions and "192.168.100.200" in actions and "…" not in actions.split(
        "Devices")[1].split("\n")[0]


def test_quiet_and_verbose(kb_db: str) -> None:
    # the starter KB is stale: normally one warning, once
    code, out, err = invoke(*AX21, "--db", kb_db)
    assert code == 0 and err.count("warning: the knowledge base is") == 1
    assert "warning: the knowledge base" not in out  # not repeated under the table
    code, out, err = invoke(*AX21, "--db", kb_db, "-q")
    assert code == 0 and err == "" and "CVE-2023-1389" in out  # results only
    code, out, err = invoke(*AX21, "--db", kb_db, "--verbose", "-f", "json")
    assert code == 0 and "knowledge base kb-" in err and "records; newest" in err
    json.loads(out)  # stdout stays the report alone
    code, _, err = invoke(*AX21, "--db", kb_db, "-q", "--verbose")
    assert code == 2 and "--quiet and --verbose exclude each other" in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--concurrency", "0", "--concurrency must be at least 1"),
        ("--rate", "0", "--rate must be at least 0.1"),
        ("--timeout", "0", "--timeout must be at least 0.05"),
        ("--host-timeout", "0", "--host-timeout must be at least 0.1"),
    ],
)
def test_flag_errors_name_the_flag_typed(flag: str, value: str, message: str) -> None:
    code, _out, err = invoke("scan", "127.45.4.1", flag, value)
    assert code == 2 and err.strip() == f"error: {message}"


def _closed_port_address() -> str:
    """127.45.4.9: nothing listens there (checked) — a host that does not answer."""
    with socket.socket() as s:
        s.settimeout(0.5)
        assert s.connect_ex(("127.45.4.9", 80)) != 0
    return "127.45.4.9"


def test_no_host_answered_is_said_plainly(kb_db: str) -> None:
    address = _closed_port_address()
    code, _out, err = invoke("scan", address, "--db", kb_db, "--ports", "80,443",
                            "--timeout", "0.2", "--host-timeout", "1")
    assert code == 0
    assert "no host answered: none of the 1 address(es) had an open port" in err


def test_large_ranges_need_yes_and_get_an_estimate(kb_db: str) -> None:
    code, out, err = invoke("scan", "127.45.0.0/16", "--db", kb_db)
    assert code == 2 and out == ""
    assert err.startswith("error: 65534 addresses to scan, about ") and "add --yes" in err


def test_estimate_spans_rate_limit_to_time_budget() -> None:
    from routerwatch.cli.scan import _estimate
    from routerwatch.scan.scanner import ScanOptions

    opts = ScanOptions(ports=(80,) * 1 + (443,), rate=100.0, host_concurrency=10,
                       host_timeout=5.0)
    # 1000 hosts x 2 ports at 100/s: 20 s at least; 100 rounds of 10 hosts x 5 s: 500 s
    assert _estimate(1000, opts) == "about 20 s to 8 min"


def test_address_lists_keep_whole_addresses() -> None:
    from routerwatch.report.table import whole_items

    addresses = [f"192.168.100.{n}" for n in range(1, 20)]
    text = whole_items(addresses, 80)
    assert text.endswith(" more") and "…" not in text
    shown = text.rsplit(" and ", 1)[0].split(", ")
    assert all(a in addresses for a in shown) and len(text) <= 80 + len(" and 99 more")
    assert whole_items(["10.0.0.1"], 5) == "10.0.0.1"  # one item is shown whole, always

"""Ban readiness: restrictions as dated data, the inventory/exceptions/plan imports, the join."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from routerwatch.assess.policy import load_policy
from routerwatch.assess.readiness import (
    ReadinessError,
    ReadinessInputs,
    apply_readiness,
    load_exceptions,
    load_inventory,
    load_plan,
    regulation_policies,
)
from routerwatch.models import Assessment, DeviceIdentity

TODAY = date(2026, 12, 3)


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def _device(address: str, vendor: str | None, model: str | None) -> Assessment:
    return Assessment(address=address, identity=DeviceIdentity(vendor=vendor, model=model))


def test_shipped_regulations_are_dated_and_cited() -> None:
    pols = {p.name: p for p in regulation_policies()}
    assert set(pols) == {"us-fcc-covered-list-2026", "us-ndaa-889", "us-texas-prohibited-2026"}
    fcc = pols["us-fcc-covered-list-2026"].restricted[0]
    assert fcc.effective == date(2026, 3, 23) and fcc.updates_until == date(2027, 3, 1)
    assert fcc.produced_abroad and fcc.needs_inventory and fcc.scope
    tx = pols["us-texas-prohibited-2026"].restricted[0]
    assert tx.vendor == "TP-Link" and tx.effective == date(2026, 1, 26)
    assert {r.vendor for r in pols["us-ndaa-889"].restricted} == {
        "Huawei", "ZTE", "Hytera", "Hikvision", "Dahua"
    }  # fmt: skip
    for p in pols.values():
        for r in p.restricted:
            assert r.id and r.scope and r.effective and r.sources, (p.name, r.vendor)
            assert all(s.publisher and s.date for s in r.sources)
    assert load_policy("phase-out-tp-link").restricted[1].sources


def test_fcc_entry_never_fires_from_a_scan_alone() -> None:
    fcc = load_policy("us-fcc-covered-list-2026")
    assert fcc.violations(DeviceIdentity(vendor="TP-Link", model="Archer AX21")) == []


def test_inventory_join_and_fcc_decisions(tmp_path: Path) -> None:
    inv = _write(
        tmp_path,
        "inv.csv",
        "# comment line\n"
        "key,address,vendor,model,country_of_production,fcc_id,purchase_date,authorization_date,owner,isp_managed\n"
        ",192.0.2.1,,,cn,TE7ABC,2020-01-02,2019-05-06,IT,no\n"
        ",,ASUS,RT-AX55,TW,,,,,\n"
        ",192.0.2.3,,,US,,,,,no\n"
        ",192.0.2.4,,,CN,,,,,yes\n"
        ",192.0.2.5,,,VN,,,2026-05-01,,\n",
    )
    devices = [
        _device("192.0.2.1", "TP-Link", "Archer AX21"),
        _device("192.0.2.2", "ASUS", "RT-AX55"),
        _device("192.0.2.3", "Cisco", "RV340"),
        _device("192.0.2.4", "Zyxel", "VMG8825-T50"),
        _device("192.0.2.5", "NETGEAR", "RAX50"),
        _device("192.0.2.6", "NETGEAR", "R7000"),
        _device("192.0.2.7", None, None),  # unidentified, not in the inventory: no router
    ]
    inputs = ReadinessInputs(
        policies=(load_policy("us-fcc-covered-list-2026"),), inventory=load_inventory(inv)
    )
    out = {a.address: a for a in apply_readiness(devices, inputs, today=TODAY)}
    a1 = out["192.0.2.1"]
    assert dict(a1.extra)["country_of_production"] == "CN"
    assert dict(a1.extra)["authorisation_date"] == "2019-05-06"  # US spelling accepted
    (item,) = a1.readiness
    assert item.status == "affected" and item.detail == "produced in CN"
    assert item.updates_until == "2027-03-01" and item.deadline == "2027-03-01"
    assert any("no firmware updates allowed after 2027-03-01" in n for n in a1.notes)
    assert a1.actions[-1].kind == "replace" and "by 2027-03-01" in a1.actions[-1].text
    assert a1.replacement is not None and a1.replacement.deadline == "2027-03-01"
    assert out["192.0.2.2"].readiness[0].status == "affected"  # joined by vendor + model
    assert out["192.0.2.3"].readiness == ()  # produced in the US
    isp = out["192.0.2.4"].readiness[0]
    assert isp.status == "unknown" and "ISP-managed" in isp.detail
    late = out["192.0.2.5"].readiness[0]
    assert "after the restriction took effect" in late.detail
    unknown = out["192.0.2.6"].readiness[0]
    assert unknown.status == "unknown" and "add it to the inventory" in unknown.detail
    assert out["192.0.2.7"].readiness == ()


def test_exceptions_and_plans(tmp_path: Path) -> None:
    exc = _write(
        tmp_path,
        "exc.csv",
        "device,policy,reason,approver,expires,compensating_controls\n"
        "192.0.2.1,tx-tp-link,lab use only,CISO,2027-01-31,isolated VLAN\n"
        "192.0.2.2,*,old contract,CIO,2026-06-30,\n",
    )
    plan = _write(
        tmp_path,
        "plan.csv",
        "device,vendor,model,target_model,cost,currency,deadline\n"
        ",TP-Link,Archer C80,Router X,120,usd,2026-12-31\n"
        '192.0.2.2,,,Router Y,"1,200",EUR,2026-10-01\n',
    )
    devices = [_device(f"192.0.2.{n}", "TP-Link", "Archer C80") for n in (1, 2)]
    inputs = ReadinessInputs(
        policies=(load_policy("us-texas-prohibited-2026"),),
        exceptions=load_exceptions(exc),
        plans=load_plan(plan),
    )
    a1, a2 = apply_readiness(devices, inputs, today=TODAY)
    assert a1.readiness[0].status == "excepted"
    assert "until 2027-01-31, approved by CISO: lab use only; controls: isolated VLAN" in (
        a1.readiness[0].exception
    )
    assert not any(x.kind == "replace" for x in a1.actions)  # excepted: nothing due
    assert a2.readiness[0].status == "exception-expired"
    assert "overdue since 2026-01-26" in a2.actions[-1].text
    assert a1.replacement is not None and a1.replacement.target_model == "Router X"
    assert a2.replacement is not None and a2.replacement.cost == 1200.0  # address beats model
    assert a2.replacement.currency == "EUR"


@pytest.mark.parametrize(
    ("loader", "text", "message"),
    [
        (load_inventory, "address,purchase_date\n192.0.2.1,2020-13-01\n", "line 2: purchase_date"),
        (load_inventory, "address,isp_managed\n192.0.2.1,maybe\n", "isp_managed 'maybe'"),
        (load_inventory, "owner\nIT\n", "name the device by key, address, or vendor and model"),
        (load_inventory, "address\n192.0.2.1,extra\n", "more fields than the header"),
        (load_inventory, "", "empty (expected a CSV header row)"),
        (load_exceptions, "device,reason,approver\n192.0.2.1,r,a\n", "expires missing"),
        (load_exceptions, "device,reason,approver,expires\n192.0.2.1,r,a,soon\n", "expires 'soon'"),
        (load_plan, "device,cost\n192.0.2.1,cheap\n", "cost 'cheap' is not a number"),
        (load_plan, "device,cost\n192.0.2.1,-5\n", "cost must be zero or more"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, loader, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    p = _write(tmp_path, "bad.csv", text)
    with pytest.raises(ReadinessError) as err:
        loader(p)
    assert message in str(err.value) and str(p) in str(err.value)
    assert "\n" not in str(err.value)


def test_binary_and_missing_files(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"\x00\x01PK")
    with pytest.raises(ReadinessError, match="binary data"):
        load_inventory(p)
    with pytest.raises(ReadinessError, match="cannot read"):
        load_plan(tmp_path / "missing.csv")

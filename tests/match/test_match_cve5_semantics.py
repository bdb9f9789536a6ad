"""CVE JSON 5 ``versions`` / ``defaultStatus`` / ``changes`` as the schema defines them
(CVEProject/cve-schema, schema/v5.0/docs/versions.md), on synthetic CVE 5-shaped entries."""

from __future__ import annotations

from typing import Any

from match_helpers import device, rec

from routerwatch.match import Matcher
from routerwatch.models import DeviceIdentity

TPL = "TP-Link"


def status(affected: list[dict[str, Any]], ident: DeviceIdentity) -> tuple[str, str]:
    """(status or "none", reason) of a one-record matcher."""
    m = Matcher([rec(cve="CVE-2099-1000", cve5_affected=tuple(affected))])
    f = m.explain(ident, "CVE-2099-1000")
    return ("none", "") if f is None else (f.status, f.reason)


def entry(versions: list[dict[str, Any]], default: str | None = None,
          product: str = "Archer AX21") -> dict[str, Any]:
    e: dict[str, Any] = {"vendor": "TP-Link", "product": product, "versions": versions}
    if default is not None:
        e["defaultStatus"] = default
    return e


def ax21(fw: str | None) -> DeviceIdentity:
    return device(TPL, "Archer AX21", "3", fw)


def test_unlisted_version_follows_default_status() -> None:
    # The shape of CVE-2023-27359: one tested build listed, defaultStatus "unknown".
    one = [{"version": "AX21(US)_V3_1.1.1 Build 20220603", "status": "affected"}]
    st, why = status([entry(one, "unknown")], ax21("1.1.2"))
    assert st == "possible" and "defaultStatus unknown" in why
    assert status([entry(one, "unknown")], ax21("1.1.1 Build 20220603"))[0] == "affected"
    assert status([entry(one)], ax21("1.1.2"))[0] == "possible"  # omitted = unknown
    assert status([entry(one, "unaffected")], ax21("1.1.2"))[0] == "not_affected"
    assert status([entry(one, "affected")], ax21("1.1.2"))[0] == "affected"


def test_less_than_and_less_than_or_equal() -> None:
    lt = [{"version": "1.1.0", "lessThan": "1.1.4", "status": "affected",
           "versionType": "custom"}]
    assert status([entry(lt, "unknown")], ax21("1.1.3"))[0] == "affected"
    assert status([entry(lt, "unknown")], ax21("1.1.0"))[0] == "affected"  # start inclusive
    st, why = status([entry(lt, "unknown")], ax21("1.1.4"))
    assert st == "not_affected" and "fix" in why  # lessThan names the fix
    assert status([entry(lt, "unknown")], ax21("1.0.9"))[0] == "possible"  # below the start
    lte = [{"version": "0", "lessThanOrEqual": "1.1.4", "status": "affected",
            "versionType": "custom"}]
    assert status([entry(lte, "unknown")], ax21("1.1.4"))[0] == "affected"
    assert status([entry(lte, "unknown")], ax21("1.1.5"))[0] == "possible"  # not listed
    assert status([entry(lte, "unaffected")], ax21("1.1.5"))[0] == "not_affected"


def test_star_bounds() -> None:
    series = [{"version": "1.0", "lessThan": "1.*", "status": "affected", "versionType": "x"}]
    assert status([entry(series, "unaffected")], ax21("1.9.9"))[0] == "affected"
    assert status([entry(series, "unaffected")], ax21("2.0"))[0] == "not_affected"
    open_end = [{"version": "1.2", "lessThan": "*", "status": "affected"}]
    assert status([entry(open_end, "unaffected")], ax21("9.0"))[0] == "affected"
    assert status([entry(open_end, "unaffected")], ax21("1.1"))[0] == "not_affected"


def test_changes_switch_status_inside_a_range() -> None:
    v = [{"version": "1.0", "lessThan": "2.*", "status": "affected", "versionType": "custom",
          "changes": [{"at": "1.5.2", "status": "unaffected"},
                      {"at": "1.6.0", "status": "affected"},
                      {"at": "1.6.3", "status": "unaffected"}]}]
    assert status([entry(v, "unknown")], ax21("1.5.1"))[0] == "affected"
    assert status([entry(v, "unknown")], ax21("1.5.2"))[0] == "not_affected"
    assert status([entry(v, "unknown")], ax21("1.6.1"))[0] == "affected"
    assert status([entry(v, "unknown")], ax21("1.6.3"))[0] == "not_affected"


def test_default_affected_with_an_unaffected_range() -> None:
    v = [{"version": "1.2", "lessThan": "*", "status": "unaffected", "versionType": "custom"}]
    assert status([entry(v, "affected")], ax21("1.1"))[0] == "affected"
    assert status([entry(v, "affected")], ax21("1.3"))[0] == "not_affected"
    assert status([entry(v, "affected")], ax21(None))[0] == "possible"


def test_data_problems_are_reported() -> None:
    empty = [{"version": "2.0", "lessThan": "1.0", "status": "affected", "versionType": "c"}]
    st, why = status([entry(empty, "unaffected")], ax21("1.5"))
    assert st == "possible" and "data problem: empty range" in why
    both = [{"version": "1.0", "lessThan": "2.0", "status": "affected", "versionType": "c"},
            {"version": "1.5", "status": "unaffected"}]
    st, why = status([entry(both, "unknown")], ax21("1.5"))
    assert st == "possible" and "contradictory" in why
    st, why = status([entry([])], ax21("1.5"))
    assert st == "possible" and "no versions and no defaultStatus" in why


def test_commit_ranges_are_not_comparable_with_firmware() -> None:
    git = [{"version": "0", "lessThan": "4f3a2b1", "status": "affected", "versionType": "git"}]
    st, why = status([entry(git, "unaffected")], ax21("1.1.2"))
    assert st == "possible" and "git" in why


def test_firmware_unknown_is_possible_at_most_unless_every_version() -> None:
    lt = [{"version": "0", "lessThan": "1.1.4", "status": "affected"}]
    assert status([entry(lt, "unknown")], ax21(None))[0] == "possible"
    allv = [{"version": "0", "lessThan": "*", "status": "affected"}]
    assert status([entry(allv, "unknown")], ax21(None))[0] == "affected"
    none = [{"version": "1.0", "status": "unaffected"}]
    assert status([entry(none, "unaffected")], ax21(None))[0] == "not_affected"

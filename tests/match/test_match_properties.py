"""Laws of the matcher, checked with hypothesis over real fixture records and devices."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st
from match_helpers import conf, device, fw, hw, load_records, node, rec, status_of

from routerwatch.match import Matcher
from routerwatch.models import CveRecord, DeviceIdentity, replace

MODELS = [
    ("TP-Link", "Archer AX21"), ("TP-Link", "TL-WR841N"), ("TP-Link", "TL-WR940N"),
    ("TP-Link", "TL-WR840N"), ("TP-Link", "Archer C7"), ("TP-Link", "Archer A7"),
    ("TP-Link", "TL-WR740N"), ("TP-Link", "Archer C5"), ("TP-Link", "TL-WR902AC"),
    ("ASUS", "RT-AX55"), ("ASUS", "RT-AX56U"), ("ASUS", "RT-AC68U"), ("ASUS", "RT-N66U"),
    ("NETGEAR", "R7000"), ("NETGEAR", "R6400"), ("NETGEAR", "DGN2200"), ("NETGEAR", "WNR2000"),
]
FIRMWARE = {
    "TP-Link": ["1.1.2 Build 20220714 rel.46227", "1.1.4 Build 20230219 rel.73766",
                "3.16.9 Build 150310 Rel.50995n", "0.9.1 3.16 v0001.0 Build 171211 Rel.58800n",
                "1.0.15 Build 20190726 Rel. 44424", "3.13.9 Build 120201 Rel.54965n"],
    "ASUS": ["3.0.0.4.386_51598", "3.0.0.4.386_50460", "3.0.0.4.382_50010",
             "3.0.0.4.388_24198"],
    "NETGEAR": ["V1.0.4.84_10.0.58", "V1.0.11.116_10.2.100", "V1.0.2.46_1.0.36",
                "V1.0.0.58_7.0.51"],
}
HARDWARE = [None, "1", "2", "3", "4", "5", "8", "10", "12", "14"]

NVD_RECORDS = [r for r in load_records() if r.configurations]
ALL_RECORDS = list(load_records())


@st.composite
def devices(draw: st.DrawFn) -> DeviceIdentity:
    vendor, model = draw(st.sampled_from(MODELS))
    firmware = draw(st.none() | st.sampled_from(FIRMWARE[vendor]))
    region = draw(st.sampled_from([None, None, "JP", "EU", "US"]))
    return DeviceIdentity(vendor=vendor, model=model, hardware=draw(st.sampled_from(HARDWARE)),
                          firmware=firmware, region=region)


def _status(r: CveRecord, ident: DeviceIdentity) -> str:
    return status_of(Matcher([r]), ident, r.cve_id)


RANK = {"not_affected": 0, "possible": 1, "affected": 2}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NVD_RECORDS), devices(), st.integers(0, 3))
def test_an_unrelated_configuration_changes_nothing(r: CveRecord, ident: DeviceIdentity,
                                                    where: int) -> None:
    unrelated = conf(node(fw("zz_unrelated_firmware", vendor="zzvendor")),
                     node(hw("zz_unrelated", vendor="zzvendor")))
    configs = list(r.configurations)
    configs.insert(min(where, len(configs)), unrelated)
    widened = replace(r, configurations=tuple(configs))
    assert _status(widened, ident) == _status(r, ident)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_RECORDS), devices())
def test_knowing_less_never_turns_unaffected_into_affected(r: CveRecord,
                                                           ident: DeviceIdentity) -> None:
    full = _status(r, ident)
    v, m, h, f, reg = ident.vendor, ident.model, ident.hardware, ident.firmware, ident.region
    for less in (
        DeviceIdentity(vendor=v, model=m, hardware=h, region=reg),
        DeviceIdentity(vendor=v, model=m, firmware=f, region=reg),
        DeviceIdentity(vendor=v, model=m, hardware=h, firmware=f),
        DeviceIdentity(vendor=v, model=m),
    ):
        partial = _status(r, less)
        # Less information can only make the answer less certain, never flip it.
        if partial == "not_affected":
            assert full == "not_affected", (less, partial, full)
        if full == "affected":
            assert partial in ("affected", "possible"), (less, partial, full)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NVD_RECORDS), devices(), st.randoms(use_true_random=False))
def test_order_of_configurations_nodes_and_criteria_does_not_matter(
    r: CveRecord, ident: DeviceIdentity, rnd: object
) -> None:
    configs = copy.deepcopy(list(r.configurations))
    rnd.shuffle(configs)  # type: ignore[attr-defined]
    for c in configs:
        rnd.shuffle(c["nodes"])  # type: ignore[attr-defined]
        for n in c["nodes"]:
            rnd.shuffle(n["cpeMatch"])  # type: ignore[attr-defined]
    shuffled = replace(r, configurations=tuple(configs))
    assert _status(shuffled, ident) == _status(r, ident)


_version = st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,3}", fullmatch=True)
_bound_attr = st.sampled_from(
    ["versionEndExcluding", "versionEndIncluding", "versionStartIncluding",
     "versionStartExcluding"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_bound_attr, _version, min_size=1, max_size=2),
       st.sampled_from(HARDWARE), st.booleans())
def test_unknown_firmware_is_never_affected_by_a_ranged_bound(
    bounds: dict[str, str], hardware: str | None, hw_first: bool
) -> None:
    fw_node = node(fw("archer_ax21_firmware", **bounds))
    hw_node = node(hw("archer_ax21"))
    c = conf(hw_node, fw_node) if hw_first else conf(fw_node, hw_node)
    status = status_of(Matcher([rec(c)]), device("TP-Link", "Archer AX21", hardware),
                       "CVE-2099-0001")
    assert status == "possible"


_FULL = Matcher(ALL_RECORDS)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_RECORDS), devices())
def test_the_index_never_hides_a_match(r: CveRecord, ident: DeviceIdentity) -> None:
    # explain() judges one CVE without the index; check() must list whatever it finds.
    direct = _FULL.explain(ident, r.cve_id)
    listed = {f.cve: f.status for f in _FULL.check(ident)}
    if direct is not None and direct.status != "not_affected":
        assert listed.get(r.cve_id) == direct.status
    else:
        assert r.cve_id not in listed

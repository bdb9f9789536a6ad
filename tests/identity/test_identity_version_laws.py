"""Ordering laws of every version scheme, checked with hypothesis.

For each scheme a strategy writes version strings the way the vendor (or NVD) does, together with
the order they must have (a plain tuple). Laws: reflexivity, antisymmetry, agreement with the
expected order, transitivity, consistency with sorting, and str() parsing back to an equal value.
Strings of lower precision (bounds such as "1.1.4" against "1.1.4 Build 20230219 rel.73766") are
checked for antisymmetry and strict transitivity.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cmp_to_key
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from routerwatch.identity.versions import compare_versions, parse_version

Version = tuple[str, tuple[Any, ...]]  # (text, expected order key)

small = st.integers(min_value=0, max_value=30)
dates = st.integers(min_value=0, max_value=12000).map(lambda d: date(1995, 1, 1) + timedelta(d))


def _strip(t: tuple[int, ...]) -> tuple[int, ...]:
    while t and t[-1] == 0:
        t = t[:-1]
    return t


@st.composite
def tplink(draw: st.DrawFn) -> Version:
    rel = (draw(small), draw(small), draw(small))
    d = draw(dates)
    n = draw(st.integers(min_value=0, max_value=99999))
    style = draw(st.sampled_from(["ui", "nvd", "yymmdd"]))
    r = ".".join(map(str, rel))
    if style == "ui":
        text = f"{r} Build {d:%Y%m%d} rel.{n}"
    elif style == "nvd":
        text = f"{r}_build_{d:%Y%m%d}_rel_{n}"
    else:
        text = f"{r} Build {d:%y%m%d} Rel.{n}n"
    return text, (_strip(rel), d, n)


@st.composite
def tplink_prefix(draw: st.DrawFn) -> str:
    """TP-Link strings of every precision: release; release+date; release+date+rel."""
    rel = ".".join(str(draw(small)) for _ in range(3))
    d = draw(dates)
    n = draw(st.integers(min_value=0, max_value=99999))
    level = draw(st.integers(min_value=1, max_value=3))
    return [rel, f"{rel} Build {d:%Y%m%d}", f"{rel} Build {d:%Y%m%d} rel.{n}"][level - 1]


@st.composite
def netgear(draw: st.DrawFn) -> Version:
    rel = tuple(draw(st.lists(small, min_size=4, max_size=4)))
    gui = tuple(draw(st.lists(small, min_size=3, max_size=3)))
    beta = draw(st.booleans())
    text = "V" + ".".join(map(str, rel)) + "_" + ".".join(map(str, gui)) + (".Beta" if beta else "")
    return text, (_strip(rel), _strip(gui), -1 if beta else 0)


@st.composite
def asus(draw: st.DrawFn) -> Version:
    branch = draw(st.sampled_from([374, 376, 380, 382, 384, 386, 388]))
    build = draw(st.integers(min_value=1, max_value=99999))
    sep1, sep2 = draw(st.sampled_from([(".", "_"), ("_", "_"), (".", ".")]))
    git = draw(st.sampled_from(["", "-gd35b8fe", "-g0012f52"]))
    return f"3.0.0.4{sep1}{branch}{sep2}{build}{git}", (branch, build)


@st.composite
def dlink(draw: st.DrawFn) -> Version:
    major, minor = draw(st.integers(1, 9)), draw(st.integers(0, 99))
    build = draw(st.integers(1, 99))
    region = draw(st.sampled_from(["", "WW", "NA", "EU"]))
    stage = draw(st.sampled_from(["", "_Beta", " Hotfix"]))
    rank = {"": 0, "_Beta": -1, " Hotfix": 1}[stage]
    return f"{major}.{minor:02d}B{build:02d}{region}{stage}", (major, minor, build, rank)


@st.composite
def zyxel(draw: st.DrawFn) -> Version:
    major, minor = draw(st.integers(1, 9)), draw(st.integers(0, 99))
    patch = draw(st.integers(0, 12))
    beta = draw(st.booleans())
    n = draw(st.integers(0, 9))
    tail = f"b{n}" if beta else f"C{n}"
    return f"V{major}.{minor:02d}(ABUJ.{patch}){tail}", (
        (major, minor),
        patch,
        (-1 if beta else 0, n),
    )


@st.composite
def draytek(draw: st.DrawFn) -> Version:
    rel = tuple(draw(st.lists(small, min_size=3, max_size=4)))
    stage = draw(st.sampled_from(["", "_STD", "_Beta", "_RC1", "_RC2", "_BT"]))
    rank = {
        "": (0, 0),
        "_STD": (0, 0),
        "_BT": (0, 0),
        "_Beta": (-2, 0),
        "_RC1": (-1, 1),
        "_RC2": (-1, 2),
    }[stage]
    return ".".join(map(str, rel)) + stage, (_strip(rel), rank)


@st.composite
def cisco(draw: st.DrawFn) -> Version:
    rel = (draw(small), draw(small), draw(st.integers(0, 120)), draw(st.integers(0, 120)))
    return f"{rel[0]}.{rel[1]}.{rel[2]:02d}.{rel[3]}", (_strip(rel),)


@st.composite
def linksys(draw: st.DrawFn) -> Version:
    rel = (draw(small), draw(small), draw(small))
    build = draw(st.integers(0, 300))
    return f"{rel[0]}.{rel[1]}.{rel[2]:02d} build {build}", (_strip(rel), build)


@st.composite
def mikrotik(draw: st.DrawFn) -> Version:
    rel = (draw(st.integers(6, 7)), draw(small))
    stage = draw(st.sampled_from(["", "beta", "rc"]))
    n = draw(st.integers(1, 60)) if stage else 0
    rank = {"": 0, "beta": -2, "rc": -1}[stage]
    return f"{rel[0]}.{rel[1]}{stage}{n if stage else ''}", (_strip(rel), rank, n)


@st.composite
def totolink(draw: st.DrawFn) -> Version:
    rel = (draw(st.integers(1, 9)), draw(small), draw(small))
    tag = draw(st.sampled_from(["cu", "u", "cr"]))
    build = draw(st.integers(1, 9999))
    d = draw(dates)
    return f"V{'.'.join(map(str, rel))}{tag}.{build}_B{d:%Y%m%d}", (_strip(rel), d, build)


@st.composite
def tenda(draw: st.DrawFn) -> Version:
    rel = (draw(st.integers(1, 16)), draw(small), draw(small), draw(small))
    flavour = draw(st.sampled_from(["", "_multi", "_multi_TD01", "_cn"]))
    prefix = draw(st.sampled_from(["", "V", "US_AC15V1.0BR_V"]))
    build = draw(st.integers(1, 9999))  # always written: a missing one compares as equal
    text = prefix + ".".join(f"{p:02d}" if i else str(p) for i, p in enumerate(rel))
    return f"{text}({build}){flavour}", (_strip(rel), build)


@st.composite
def huawei(draw: st.DrawFn) -> Version:
    v, r, c = draw(st.integers(100, 300)), draw(st.integers(1, 20)), draw(st.integers(0, 30))
    spc = draw(st.integers(0, 999))
    sph = draw(st.integers(0, 20))
    text = f"V{v}R{r:03d}C{c:02d}SPC{spc:03d}" + (f"SPH{sph:03d}" if sph else "")
    return text, ((v, r, c), spc, sph)


@st.composite
def zte(draw: st.DrawFn) -> Version:
    rel = (draw(st.integers(1, 9)), draw(small), draw(small))
    p, t = draw(st.integers(1, 9)), draw(st.integers(1, 20))
    letter = draw(st.sampled_from(["T", "N", "B"]))
    return f"V{'.'.join(map(str, rel))}P{p}{letter}{t}", (_strip(rel), p, t)


@st.composite
def avm(draw: st.DrawFn) -> Version:
    major, minor = draw(st.integers(5, 8)), draw(st.integers(0, 99))
    hw = draw(st.booleans())
    build = draw(st.integers(10000, 999999))
    # one box per example stream: the hardware number gates comparisons
    return f"{'154.' if hw else ''}{major:02d}.{minor:02d}-{build}", ((major, minor), build)


@st.composite
def ubiquiti(draw: st.DrawFn) -> Version:
    rel = (draw(st.integers(1, 9)), draw(small), draw(small))
    stage = draw(st.sampled_from(["", "beta", "rc", "hotfix"]))
    n = draw(st.integers(1, 9)) if stage else 0
    rank = {"": 0, "beta": -2, "rc": -1, "hotfix": 1}[stage]
    text = "v" + ".".join(map(str, rel)) + (f"-{stage}.{n}" if stage else "")
    return text, (_strip(rel), rank, n)


@st.composite
def mikrotik_channel(draw: st.DrawFn) -> Version:
    rel = (draw(st.integers(6, 7)), draw(small), draw(small))
    channel = draw(st.sampled_from(["", " (long-term)", " stable", " (stable)", " long-term"]))
    prefix = draw(st.sampled_from(["", "RouterOS ", "v"]))
    return prefix + ".".join(map(str, rel)) + channel, (_strip(rel),)


@st.composite
def zyxel_patch(draw: st.DrawFn) -> Version:
    major, minor = draw(st.integers(4, 5)), draw(st.integers(0, 99))
    patch = draw(st.integers(0, 9))
    style = draw(st.sampled_from(["{v} patch{p}", "V{v} Patch {p}", "ZLD {v} p{p}",
                                  "V{v}(ABFV.{p})C0"]))
    return style.format(v=f"{major}.{minor:02d}", p=patch), ((major, minor), patch)


@st.composite
def generic(draw: st.DrawFn) -> Version:
    rel = tuple(draw(st.lists(st.integers(0, 1000), min_size=1, max_size=5)))
    return "v" + ".".join(map(str, rel)), (_strip(rel),)


SCHEMES: list[tuple[str | None, Any]] = [
    ("TP-Link", tplink()),
    ("NETGEAR", netgear()),
    ("ASUS", asus()),
    ("D-Link", dlink()),
    ("Zyxel", zyxel()),
    ("DrayTek", draytek()),
    ("Cisco", cisco()),
    ("Linksys", linksys()),
    ("MikroTik", mikrotik()),
    ("MikroTik", mikrotik_channel()),
    ("Zyxel", zyxel_patch()),
    ("TOTOLINK", totolink()),
    ("Tenda", tenda()),
    ("Huawei", huawei()),
    ("ZTE", zte()),
    ("AVM", avm()),
    ("Ubiquiti", ubiquiti()),
    (None, generic()),
]


def _sign(x: Any, y: Any) -> int:
    return (x > y) - (x < y)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_order_matches_the_vendors_order(data: st.DataObject) -> None:
    for vendor, strategy in SCHEMES:
        (a, ka), (b, kb), (c, _) = (data.draw(strategy) for _ in range(3))
        assert compare_versions(vendor, a, a) == 0, a
        assert compare_versions(vendor, a, b) == _sign(ka, kb), (vendor, a, b)
        assert compare_versions(vendor, b, a) == _sign(kb, ka), (vendor, b, a)
        ab, bc, ac = (compare_versions(vendor, x, y) for x, y in ((a, b), (b, c), (a, c)))
        assert ab is not None and bc is not None and ac is not None
        if ab <= 0 and bc <= 0:
            assert ac <= 0, (vendor, a, b, c)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_sorting_agrees_with_expected_order(data: st.DataObject) -> None:
    for vendor, strategy in SCHEMES:
        items: list[Version] = data.draw(st.lists(strategy, min_size=2, max_size=12))

        def cmp(x: Version, y: Version, vendor: str | None = vendor) -> int:
            return compare_versions(vendor, x[0], y[0]) or 0

        by_compare = sorted(items, key=cmp_to_key(cmp))
        keys = [k for _, k in by_compare]
        assert keys == sorted(keys), (vendor, [t for t, _ in by_compare])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_str_round_trip(data: st.DataObject) -> None:
    for vendor, strategy in SCHEMES:
        text, _ = data.draw(strategy)
        v = parse_version(vendor, text)
        assert v is not None, (vendor, text)
        again = parse_version(vendor, str(v))
        assert again == v, (vendor, text, str(v))
        assert str(again) == str(v)


@settings(max_examples=150, deadline=None)
@given(tplink_prefix(), tplink_prefix(), tplink_prefix())
def test_mixed_precision_antisymmetry_and_strict_transitivity(a: str, b: str, c: str) -> None:
    ab, ba = compare_versions("TP-Link", a, b), compare_versions("TP-Link", b, a)
    assert ab is not None and ba == -ab
    bc, ac = compare_versions("TP-Link", b, c), compare_versions("TP-Link", a, c)
    assert bc is not None and ac is not None
    if ab < 0 and bc < 0:
        assert ac < 0, (a, b, c)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["ABUJ", "ABVY", "AAZI"]),
    st.sampled_from(["ABUJ", "ABVY", "AAZI"]),
    st.integers(0, 9),
    st.integers(0, 9),
)
def test_zyxel_model_codes_gate(c1: str, c2: str, p1: int, p2: int) -> None:
    r = compare_versions("Zyxel", f"V5.21({c1}.{p1})C0", f"V5.21({c2}.{p2})C0")
    if c1 != c2:
        assert r is None
    else:
        assert r == _sign(p1, p2)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789._-vVbBuildRel ()WNA", max_size=30),
    st.sampled_from([s[0] for s in SCHEMES]),
)
def test_any_text_parses_or_gives_none_and_is_reflexive(text: str, vendor: str | None) -> None:
    v = parse_version(vendor, text)
    r = compare_versions(vendor, text, text)
    if v is None:
        assert r is None
    else:
        assert r in (0, None)  # None only when nothing orderable was stated (e.g. "V2")
        assert parse_version(vendor, str(v)) == v or not str(v)

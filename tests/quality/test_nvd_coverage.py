"""NVD 2017-2024 coverage figures (scripts/nvd_coverage.py) are set arithmetic on real data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "tests" / "fixtures"  # copies of /work/shared/data (fixtures/SOURCES.md)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rw_nvd_coverage",
                                                  ROOT / "scripts" / "nvd_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rw_nvd_coverage"] = module
    spec.loader.exec_module(module)
    return module


def test_shared_figures_are_consistent() -> None:
    nc = _script()
    figures = nc.shared_figures(SHARED)
    assert set(figures) == {"TP-Link", "NETGEAR", "ASUS"}
    for vendor, f in figures.items():
        assert 0 <= f["with_nvd"] <= f["known"], vendor
        assert f["known"] == sum(y["known"] for y in f["years"].values())
    # every TP-Link CVE with a CVE 5 record got its NVD record (data/README.md): 2023 complete
    assert figures["TP-Link"]["years"][2023]["with_nvd"] == figures["TP-Link"]["years"][2023][
        "known"] > 50
    # NETGEAR/ASUS 2017+ NVD records are hand-picked only: most known CVEs lack one
    assert figures["NETGEAR"]["with_nvd"] < figures["NETGEAR"]["known"] / 2


def test_bundle_figures_are_consistent() -> None:
    nc = _script()
    bundle = next((ROOT / "src/routerwatch/kb/data").glob("starter-*.rwkb.xz"))
    years = nc.bundle_figures(bundle)["years"]
    assert set(years) == set(range(2017, 2025))
    for y, f in years.items():
        assert f["kev_with_either"] <= f["kev_router"], y
        assert max(f["kev_with_nvd"], f["kev_with_cve5"]) <= f["kev_with_either"], y
    assert sum(f["cve5_records"] for f in years.values()) > 1000
    assert "| 2017–2024 |" in nc.markdown(nc.shared_figures(SHARED), nc.bundle_figures(bundle))

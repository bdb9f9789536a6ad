"""The demo's example ban-readiness inputs (``lab/demo/*.csv``): an inventory, an exceptions
register and a replacement plan for the lab's devices, keyed by vendor and model so they join
whatever loopback base the lab runs on. Illustrative data of a fictional organisation."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["demo_inputs"]


def demo_inputs() -> tuple[Path, Path, Path]:
    """(inventory, exceptions, plan) CSV paths."""
    folder = Path(str(resources.files("routerwatch.lab").joinpath("demo")))
    return folder / "inventory.csv", folder / "exceptions.csv", folder / "plan.csv"

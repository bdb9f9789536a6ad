"""Front-end helpers for a bulk run: the knowledge base the workers will use, and a small
in-process run the demo can show (see :func:`demo_step`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from routerwatch.bulk.engines import KbSource
from routerwatch.bulk.io import DatasetError

if TYPE_CHECKING:
    from routerwatch.bulk.run import BulkResult
    from routerwatch.pipeline import Engines


def prepare_kb(
    db: str | None, bundle: Path | None, policy: str | None
) -> tuple[KbSource, str | None]:
    """The KbSource for the workers; with no bundle the KB at ``db`` gets the starter bundle
    when it is empty (as `scan` does). Returns (source, note for the user or None)."""
    from routerwatch.assess import PolicyError, load_policy
    from routerwatch.kb import KBError, ensure_starter, open_kb

    if policy:
        try:
            load_policy(policy)  # fail here, once, rather than on every worker
        except PolicyError as exc:
            raise DatasetError(str(exc)) from exc
    if bundle is not None:
        if not bundle.is_file():
            raise DatasetError(f"--kb-bundle {bundle}: no such file")
        st = bundle.stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
        return KbSource(bundle=str(bundle.resolve()), policy=policy, stamp=stamp), None
    note = None
    try:
        kb = open_kb(db)
        try:
            if ensure_starter(kb):
                note = "the knowledge base was empty: imported the bundled starter KB"
            url = str(kb.engine.url.render_as_string(hide_password=False))
            stamp = hashlib.sha256(
                json.dumps(kb.status(), sort_keys=True, default=str).encode()
            ).hexdigest()[:16]
        finally:
            kb.close()
    except KBError as exc:
        raise DatasetError(str(exc)) from exc
    return KbSource(url=url, policy=policy, stamp=stamp), note


def demo_step(
    output: Path,
    kb_url: str,
    *,
    records: int = 2000,
    engines: Engines | None = None,
    seed: int = 42,
) -> tuple[BulkResult, str]:
    """A small bulk run for `routerwatch demo`: write a Shodan and a masscan dataset made from
    the lab's devices and the long tail (routerwatch.bulk.generate), assess them in this
    process into ``output`` (Parquet + summary.json) and return (result, one summary line).

    ``engines`` (the demo's, already loaded from ``kb_url``) are reused instead of built again.
    """
    from routerwatch.bulk.engines import prime
    from routerwatch.bulk.generate import write_dataset
    from routerwatch.bulk.run import BulkOptions, run_bulk

    output.mkdir(parents=True, exist_ok=True)
    data = output / "datasets"
    data.mkdir(exist_ok=True)
    half = max(1, records // 2)
    paths = [data / "shodan.jsonl.zst", data / "masscan.txt"]
    write_dataset(paths[0], "shodan", half, seed=seed, router_share=0.3)
    write_dataset(paths[1], "masscan-list", half, seed=seed + 1, router_share=0.3)
    source = KbSource(url=kb_url)
    if engines is not None:
        prime(source, engines)
    result = run_bulk(
        BulkOptions([str(p) for p in paths], output, source, partitions=2, restart=True)
    )
    s = result.summary
    line = (
        f"bulk: {result.read.records:,} scan records (Shodan + masscan, "
        f"{result.read.malformed} junk lines skipped) → {s.hosts:,} hosts, {s.routers:,} routers "
        f"identified, {s.vulnerable:,} with an affected CVE ({s.kev_exposed:,} in KEV), "
        f"{s.compromised:,} with a compromise indicator; Parquet tables in {output}/ "
        f"({result.elapsed:.1f} s)"
    )
    return result, line

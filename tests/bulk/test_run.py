"""A bulk run end to end: single process, a 2-worker LocalCluster (same results), resume after
a killed run, refusal of a mismatched output directory, the CLI's one-line errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routerwatch.bulk.engines import KbSource
from routerwatch.bulk.generate import write_dataset
from routerwatch.bulk.io import DatasetError
from routerwatch.bulk.run import BulkOptions, run_bulk
from routerwatch.bulk.tables import read_table

FIXTURES = Path(__file__).parent / "fixtures"
# Dask binds here only (a loopback address; ROUTERWATCH_TEST_LOOPBACK picks another, e.g. a
# helper's own range on a shared machine)
LOOPBACK = os.environ.get("ROUTERWATCH_TEST_LOOPBACK", "127.8.0.1")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("bulk-data")
    out = [
        str(p)
        for p in sorted(FIXTURES.iterdir())
        if p.suffix in (".jsonl", ".xml", ".list", ".json", ".ndjson")
    ]
    write_dataset(folder / "shodan.jsonl.zst", "shodan", 600, seed=5, router_share=0.3)
    write_dataset(folder / "masscan.txt", "masscan-list", 600, seed=6, router_share=0.3)
    return [*out, str(folder / "shodan.jsonl.zst"), str(folder / "masscan.txt")]


def _listening() -> list[str]:
    import psutil

    return [c.laddr.ip for c in psutil.Process().net_connections("tcp") if c.status == "LISTEN"]


def tables(output: Path) -> dict[str, list[dict[str, object]]]:
    out = {}
    for name in ("devices", "findings", "indicators"):
        rows = read_table(output, name).to_pylist()
        out[name] = sorted(rows, key=lambda r: sorted((k, str(v)) for k, v in r.items()))
    return out


def test_single_process_run(datasets: list[str], kb_url: str, tmp_path: Path) -> None:
    result = run_bulk(BulkOptions(datasets, tmp_path / "out", KbSource(url=kb_url), partitions=4))
    s = result.summary
    assert (
        result.read.malformed >= 9
    )  # the junk lines of the three written fixtures (+ generator junk)
    assert s.hosts > 500 and s.routers > 50
    assert s.counters["vendors"]["TP-Link"] > 0
    assert s.counters["indicators"]["quad7-xlogin-7777"] > 0
    assert s.kev_exposed > 0 and s.counters["kev_by_cve"]
    t = tables(tmp_path / "out")
    assert len(t["devices"]) == s.hosts
    assert len(t["findings"]) == s.findings
    assert {r["rule"] for r in t["indicators"]} >= {"quad7-xlogin-7777", "quad7-socks5-11288"}
    assert (tmp_path / "out" / "devices" / "vendor=TP-Link").is_dir()
    # a Quad7 router seen through Shodan: both markers on one merged host, corroborated
    q = [
        r for r in t["indicators"] if r["rule"] == "quad7-socks5-11288" and r["certainty"] == "high"
    ]
    assert q


def test_two_worker_cluster_matches_single_process(
    datasets: list[str], kb_url: str, tmp_path: Path
) -> None:
    from routerwatch.bulk.executor import DaskExecutor

    single = run_bulk(BulkOptions(datasets, tmp_path / "one", KbSource(url=kb_url), partitions=6))
    executor = DaskExecutor(workers=2, host=LOOPBACK, memory_limit="2GiB")
    try:
        assert executor.workers == 2
        addresses = executor.client.scheduler_info()["address"]
        assert LOOPBACK in addresses
        # every socket the cluster listens on is on this loopback address (no 0.0.0.0)
        listening = [*executor.client.run(_listening).values(),
                     executor.client.run_on_scheduler(_listening)]  # fmt: skip
        assert listening and all(ip == LOOPBACK for ips in listening for ip in ips), listening
        dask = run_bulk(
            BulkOptions(datasets, tmp_path / "two", KbSource(url=kb_url), partitions=6), executor
        )
        pids = {
            p.name: __import__("orjson").loads(p.read_bytes())["pid"]
            for p in (tmp_path / "two" / "_state" / "done").iterdir()
        }
    finally:
        executor.close()
    assert len(set(pids.values())) == 2  # both workers did partitions
    assert os.getpid() not in pids.values()
    assert dask.summary.to_dict() == single.summary.to_dict()
    assert tables(tmp_path / "two") == tables(tmp_path / "one")


def test_resume_after_kill(datasets: list[str], kb_url: str, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    write_dataset(big, "zgrab2", 4000, seed=9, router_share=0.3)
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "routerwatch",
        "assess",
        str(big),
        "-o",
        str(out),
        "--single-process",
        "--partitions",
        "16",
        "--db",
        kb_url,
        "-q",
        "-f",
        "json",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = out / "_state" / "done"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if done.exists() and len(list(done.glob("p*.json"))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in done.glob("p*.json")}
    assert 3 <= len(finished) < 16
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    for name, mtime in finished.items():
        assert (done / name).stat().st_mtime_ns == mtime  # not redone
    summary = __import__("orjson").loads((out / "summary.json").read_bytes())
    assert summary["resumed_partitions"] == len(finished)
    clean = run_bulk(
        BulkOptions([str(big)], tmp_path / "clean", KbSource(url=kb_url), partitions=16)
    )
    assert summary["summary"] == clean.summary.to_dict()
    assert tables(out) == tables(tmp_path / "clean")


def test_other_inputs_in_same_output_are_refused(kb_url: str, tmp_path: Path) -> None:
    out = tmp_path / "o"
    run_bulk(BulkOptions([str(FIXTURES / "masscan.list")], out, KbSource(url=kb_url), partitions=2))
    with pytest.raises(DatasetError, match="other inputs"):
        run_bulk(
            BulkOptions([str(FIXTURES / "masscan.json")], out, KbSource(url=kb_url), partitions=2)
        )
    again = run_bulk(
        BulkOptions(
            [str(FIXTURES / "masscan.json")], out, KbSource(url=kb_url), partitions=2, restart=True
        )
    )
    assert again.summary.hosts == 1


def test_partition_by_country(kb_url: str, tmp_path: Path) -> None:
    run_bulk(
        BulkOptions(
            [str(FIXTURES / "shodan-banners.jsonl")],
            tmp_path,
            KbSource(url=kb_url),
            partitions=2,
            partition_by="country",
        )
    )
    folders = {p.name for p in (tmp_path / "devices").iterdir()}
    assert folders and all(f.startswith("country=") for f in folders)


def test_cli_errors_are_one_line(tmp_path: Path, kb_url: str) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    for args in (
        ["assess", str(junk)],
        ["assess", str(tmp_path / "missing.jsonl")],
        ["assess", str(junk), "--format", "pdf"],
    ):
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "routerwatch",
                *args,
                "--single-process",
                "--db",
                kb_url,
                "-o",
                str(tmp_path / "o"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode != 0
        assert "Traceback" not in r.stderr and r.stderr.strip().startswith("error:"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_memoising_changes_nothing(kb_url: str, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    write_dataset(data, "shodan", 1500, seed=21, router_share=0.4)
    kb = KbSource(url=kb_url)
    memo = run_bulk(BulkOptions([str(data)], tmp_path / "memo", kb, partitions=2))
    plain = run_bulk(BulkOptions([str(data)], tmp_path / "plain", kb, partitions=2, memoise=False))
    states = [
        __import__("orjson").loads(p.read_bytes())
        for p in (tmp_path / "plain" / "_state" / "done").iterdir()
    ]
    assert sum(s["distinct_verdicts"] for s in states) == plain.summary.hosts  # unmemoised
    assert memo.summary.to_dict() == plain.summary.to_dict()
    assert tables(tmp_path / "memo") == tables(tmp_path / "plain")


def test_assessment_key_covers_every_observation_field() -> None:
    """A new Observation field must be added to the verdict memo key (or this test updated)."""
    from msgspec.structs import fields

    from routerwatch.models import HttpObservation, Observation

    # observed_at and snmp_engine_id (a device-key source) are per host, like the address:
    # match, checks and assess read neither, and the tables use neither.
    covered = {"address", "elapsed", "open_ports", "http", "banners", "tls", "upnp", "upnp_more",
               "snmp_sysdescr", "snmp_sysobjectid", "mac", "mac_vendor", "errors",
               "observed_at", "snmp_engine_id"}  # fmt: skip
    assert {f.name for f in fields(Observation)} == covered
    http_fields = {"port", "scheme", "method", "path", "status", "headers", "body", "title",
                   "favicon_md5", "favicon_mmh3", "truncated"}  # fmt: skip
    assert {f.name for f in fields(HttpObservation)} == http_fields


def test_summary_formats(kb_url: str, tmp_path: Path) -> None:
    import csv
    import io
    import json

    from routerwatch.bulk.render import render

    result = run_bulk(
        BulkOptions([str(FIXTURES / "zgrab2-routers.jsonl")], tmp_path, KbSource(url=kb_url),
                    partitions=2)
    )  # fmt: skip
    data = json.loads(render(result, "json"))
    assert data["summary"]["hosts"] == result.summary.hosts
    rows = list(csv.DictReader(io.StringIO(render(result, "csv"))))
    assert {"section", "key", "count"} == set(rows[0])
    assert any(r["section"] == "Indicator hits" and r["key"] == "quad7-xlogin-7777" for r in rows)
    page = render(result, "html")
    assert page.startswith("<!doctype html>") and "quad7-xlogin-7777" in page
    assert "<script" not in page


def test_cli_on_an_existing_scheduler(kb_url: str, tmp_path: Path) -> None:
    """`--scheduler tcp://…`: the CLI uses a cluster it did not start (here one on loopback);
    each worker builds its engines once, whatever the number of partitions."""
    from distributed import Client, LocalCluster

    from routerwatch.bulk import engines

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host=LOOPBACK,
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        out = tmp_path / "o"
        r = subprocess.run(
            [sys.executable, "-m", "routerwatch", "assess", str(FIXTURES / "shodan-banners.jsonl"),
             str(FIXTURES / "masscan.list"), "-o", str(out), "--scheduler",
             cluster.scheduler_address, "--db", kb_url, "--partitions", "8", "-q", "-f", "json"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        builds = client.run(lambda: engines.BUILDS["count"])
    assert sorted(builds.values()) in ([1, 1], [0, 1])  # once per worker that got work
    data = __import__("orjson").loads((out / "summary.json").read_bytes())
    assert data["partitions"] == 8 and data["summary"]["routers"] > 0
    assert (out / "summary.json").exists() and (out / "devices").is_dir()


def test_verdict_key_determines_the_identity_key(tmp_path: Path) -> None:
    """The verdict memo is looked up before extract_inputs: equal verdict keys must mean equal
    fingerprint inputs (else a hit could carry another device's identity)."""
    from routerwatch.bulk.dataset import plan_chunks, read_chunk
    from routerwatch.bulk.record import ReadStats, merge_records
    from routerwatch.bulk.work import identity_key, verdict_key

    paths = []
    for fmt, name in (("shodan", "s.jsonl"), ("nmap", "n.xml"), ("zgrab2", "z.jsonl")):
        write_dataset(tmp_path / name, fmt, 1500, seed=31, router_share=0.5)
        paths.append(tmp_path / name)
    groups: dict[str, list] = {}
    stats = ReadStats()
    for chunk in plan_chunks(paths):
        for r in read_chunk(chunk, stats):
            groups.setdefault(r.observation.address, []).append(r)
    seen: dict[tuple, tuple] = {}
    for records in groups.values():
        record = merge_records(records)
        ident = seen.setdefault(verdict_key(record), identity_key(record))
        assert ident == identity_key(record)
    assert len(seen) < len(groups)  # the data repeats devices: the memo is exercised

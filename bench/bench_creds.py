"""Credentialed reads (issue 17): firmware known, and the headline's possible -> affected.

Starts the credentialed lab (routerwatch.lab.credlab) on 127.54.2.x, stores the owner's
credentials for every device that has a login service routerwatch reads (through the real
`routerwatch creds add`, file backend, passphrase from the environment), then runs
`routerwatch scan` as a whole process twice — with --no-creds and with --creds — and compares:

* the share of devices whose firmware routerwatch reports, and reports right (= the lab's
  true firmware), before and after;
* the headline: affected / possible findings, and KEV-listed CVEs that are affected;
* wall time and peak RSS of each whole scan process;
* that no secret appears in any output, and that the lab saw no write call.

No peer is compared: the credentialed scanners teams trust (Nessus, Greenbone) are not
installable here. Run: .venv/bin/python bench/bench_creds.py
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE = "127.54.2.0"
PASSPHRASE = "bench-creds-passphrase"


def _run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS KiB of that child, stdout+stderr, CPU seconds user+sys) of one
    whole routerwatch process (its own rusage through wait4, not the running maximum of all
    children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as inp:
        inp.write((stdin or "").encode())
        inp.seek(0)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "routerwatch", *args], env=env,
                                stdin=inp, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        sys.exit(f"routerwatch {' '.join(args)} failed ({proc.returncode}): {text[-500:]}")
    return wall, usage.ru_maxrss, text, usage.ru_utime + usage.ru_stime


def _score(report: dict[str, Any], truth: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from routerwatch.identity.credentialed import same

    by_addr = {a["address"]: a for a in report["hosts"]}
    known = right = 0
    affected = possible = kev_affected = kb_only = 0
    rows = []
    kev: dict[tuple[str, str], str] = {}
    for addr, t in truth.items():
        a = by_addr.get(addr)
        fw = a["identity"].get("firmware") if a else None
        ok = bool(fw and t["firmware"] and same("firmware", fw, t["firmware"]))
        known += fw is not None
        right += ok
        finds = a["findings"] if a else []
        n_aff = sum(f["status"] == "affected" for f in finds)
        n_pos = sum(f["status"] == "possible" for f in finds)
        n_kev = sum(f["status"] == "affected" and f.get("kev") for f in finds)
        # possible because the KB holds only a KEV entry (no version data): no firmware helps
        kb_only += sum(f["status"] == "possible" and "has no NVD or CVE 5 record" in f["reason"]
                       for f in finds)
        affected += n_aff
        possible += n_pos
        kev_affected += n_kev
        rows.append((t["profile"], fw, ok, n_aff, n_pos, n_kev))
        for f in finds:
            if f.get("kev"):
                kev[(t["profile"], str(f.get("cve") or f.get("id")))] = f["status"]
    return {"kev_status": kev, "known": known, "right": right, "devices": len(truth),
            "affected": affected, "possible": possible, "kev_affected": kev_affected,
            "kb_only": kb_only, "rows": rows}


def main() -> int:
    from routerwatch.lab.credlab import CredLab

    home = Path(tempfile.mkdtemp(prefix="bench-creds-"))
    env = {**os.environ, "ROUTERWATCH_HOME": str(home), "ROUTERWATCH_CREDS_BACKEND": "file",
           "ROUTERWATCH_CREDS_PASSPHRASE": PASSPHRASE}  # fmt: skip
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()} (shared with other sessions: figures are upper bounds)")
    # import the starter KB once, outside the timed runs
    _run(["kb", "status"], env)
    subprocess.run([sys.executable, "-m", "routerwatch", "check", "TP-Link Archer C7"], env=env,
                   capture_output=True, timeout=600)  # fmt: skip
    with CredLab(base=BASE) as lab:
        devices = lab.devices()
        truth = {d.address: {"profile": d.profile_id,
                             "firmware": d.identity.firmware if d.identity else None}
                 for d in devices}  # fmt: skip
        secrets: list[str] = []
        t0 = time.perf_counter()
        for d in devices:
            for i, c in enumerate(d.credentials()):
                args = ["creds", "add", f"{d.profile_id}-{c['kind']}-{i}", "--kind", c["kind"],
                        "--device", d.address, "--user", c["user"], "--stdin"]  # fmt: skip
                if c.get("port"):
                    args += ["--port", str(c["port"])]
                if c["kind"] == "snmpv3":
                    args += ["--auth-protocol", c["auth_protocol"],
                             "--priv-protocol", c["priv_protocol"]]  # fmt: skip
                    stdin = f"{c['auth_key']}\n{c['priv_key']}\n"
                    secrets += [c["auth_key"], c["priv_key"]]
                else:
                    stdin = c["password"] + "\n"
                    secrets.append(c["password"])
                _run(args, env, stdin)
        print(f"credentials stored: {len(secrets)} secrets for "
              f"{sum(bool(d.services) for d in devices)} of {len(devices)} devices "
              f"in {time.perf_counter() - t0:.1f} s (whole `creds add` processes)")
        target = [f"{BASE[:-1]}1-{len(devices)}"]
        # what the owner knows: their own SSH key and their ISP's resolvers (as audit-config)
        known = home / "authorized_keys"
        known.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnerKeyForTestsOnlyLabOpenWrt "
                         "owner@laptop\n")  # fmt: skip
        owner = ["--known-key", str(known), "--isp-dns", "198.51.100.1,198.51.100.2"]
        results = {}
        outputs = []
        for label, flag in (("without credentials", "--no-creds"), ("with credentials", "--creds")):
            out = home / f"scan{flag}.json"
            lab.log.clear()
            wall, peak, text, cpu = _run(["scan", *target, flag, *owner, "-q", "-f", "json",
                                          "-o", str(out)], env)  # fmt: skip
            report = json.loads(out.read_text())
            outputs += [out.read_text(), text]
            score = _score(report, truth)
            results[label] = score
            writes = [r for r in lab.log.snapshot() if r.kind == "call" and not _read(r)]
            logins = lab.log.logins()
            print(f"\n{label}: whole process {wall:.2f} s wall, {cpu:.2f} s CPU (user+sys), "
                  f"peak RSS {peak / 1024:.0f} MiB, "
                  f"{len(logins)} logins ({sum(not r.ok for r in logins)} refused), "
                  f"{len(writes)} non-read calls")
            share = 100 * score["right"] / score["devices"]
            print(f"  firmware reported {score['known']}/{score['devices']}, right "
                  f"{score['right']}/{score['devices']} ({share:.0f} %)")
            summ = report["summary"]
            print(f"  findings: affected {score['affected']}, possible {score['possible']} "
                  f"({score['kb_only']} of them KEV-only records without version data), "
                  f"KEV affected {score['kev_affected']}; headline: vulnerable hosts "
                  f"{summ['vulnerable']}, KEV hosts {summ['kev']} (KEV possible "
                  f"{summ['kev_possible']}), compromised {summ['compromised']}")
            for prof, fw, ok, n_aff, n_pos, n_kev in score["rows"]:
                print(f"    {prof:<44} fw {fw or '-':<22} {'ok ' if ok else '   '} "
                      f"affected {n_aff:>3} possible {n_pos:>3} kev {n_kev}")
        logs = "\n".join(p.read_text(errors="replace") for p in home.rglob("*.log"))
        leaked = [s for s in secrets if any(s in o for o in [*outputs, logs])]
        print(f"\nsecrets found in reports, stdout/stderr or logs: {len(leaked)}")
        store = (home / "credentials.enc").read_text()
        print(f"secrets readable in the store file: {sum(s in store for s in secrets)} "
              f"(file mode {oct((home / 'credentials.enc').stat().st_mode & 0o777)})")
    b, a = results["without credentials"], results["with credentials"]
    print(f"\nfirmware known (right): {b['right']}/{b['devices']} -> {a['right']}/{a['devices']}; "
          f"affected {b['affected']} -> {a['affected']}, possible {b['possible']} -> "
          f"{a['possible']} (with version data in the KB: {b['possible'] - b['kb_only']} -> "
          f"{a['possible'] - a['kb_only']}), KEV affected {b['kev_affected']} -> "
          f"{a['kev_affected']}")
    changed = sorted((k, b["kev_status"].get(k, "-"), v) for k, v in a["kev_status"].items()
                     if b["kev_status"].get(k) != v)  # fmt: skip
    for (prof, cve), was, now in changed:
        print(f"KEV {cve} on {prof}: {was} -> {now}")
    return 0 if a["right"] * 5 >= 4 * a["devices"] and not leaked else 1


def _read(req: Any) -> bool:
    from routerwatch.creds.collectors.asus import AsusCollector
    from routerwatch.creds.collectors.netgear import NetgearCollector
    from routerwatch.creds.collectors.routeros import RouterOsCollector
    from routerwatch.creds.collectors.snmpv3 import OIDS
    from routerwatch.creds.collectors.ssh import SshCollector
    from routerwatch.creds.collectors.tplink import LOGIN_STEPS, TplinkCollector
    from routerwatch.creds.collectors.tr064 import ACTIONS

    if req.protocol == "ssh":
        return req.what in SshCollector.ALLOWLIST
    if req.protocol == "routeros":
        return req.what in RouterOsCollector.ALLOWLIST
    if req.protocol == "snmpv3":
        return req.what.startswith("GET ") and set(req.what.split()[1:]) <= set(OIDS)
    if req.protocol == "tr064":
        if req.what.startswith("GET "):
            return True
        return any(req.what.endswith(f":{s[:-1]}:1#{a}") or req.what.endswith(f"{s}#{a}")
                   for s, a in ACTIONS) or req.what.split()[-1].split("#")[-1] in ("",)
    if req.protocol == "http-tplink":  # the logout ends the session, changes no setting
        return req.what in TplinkCollector.ALLOWLIST or req.what in LOGIN_STEPS
    if req.protocol == "http-netgear":
        return req.what in NetgearCollector.ALLOWLIST
    if req.protocol == "http-asus":  # Logout.asp ends the session
        return req.what in AsusCollector.ALLOWLIST
    return False


if __name__ == "__main__":
    sys.exit(main())

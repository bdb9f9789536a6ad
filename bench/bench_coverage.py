"""Issue 9 figures: matching quality on the hand-labelled and oracle corpora (with the held-out
part), the starter bundle's size and coverage, NVD 2017-2024 coverage measured on the real data
(scripts/nvd_coverage.py), and `routerwatch check` wall times (table and JSON with the
per-finding join explanation and per-device coverage). Each measured step is a whole process:
its wall time and peak RSS are printed.

    python3 tasks.py bench coverage
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def quality(*args: str) -> dict[str, object]:
    t = time.perf_counter()
    out = subprocess.run([PY, str(ROOT / "scripts" / "quality.py"), "--json", *args],
                         capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    data = json.loads(out.stdout)
    data["wall_s"] = round(wall, 2)
    return {k: data[k] for k in ("precision", "recall", "cases", "true_positives",
                                 "false_positives", "false_negatives", "wall_s")}


def main() -> int:
    print("hand-labelled:", quality())
    for part in ("all", "tuning", "held-out"):
        print(f"oracle {part}:", quality("--oracle", "--part", part))
    t = time.perf_counter()
    pairs = subprocess.run([PY, str(ROOT / "scripts" / "description_oracle.py")],
                           capture_output=True, text=True, cwd=ROOT, check=True)
    print(f"{pairs.stdout.strip()} ({time.perf_counter() - t:.2f} s wall)")
    data = ROOT / "src" / "routerwatch" / "kb" / "data"
    bundle = next(data.glob("starter-*.rwkb.xz"))
    print(f"starter bundle {bundle.name}: {bundle.stat().st_size / 1024:.0f} KiB")
    coverage = json.loads((data / "starter-coverage.json").read_text())["vendors"]
    print("covered vendors:", sum(1 for v in coverage.values() if v["nvd"] or v["cve5"]))
    t = time.perf_counter()
    nvd = subprocess.run([PY, str(ROOT / "scripts" / "nvd_coverage.py")], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    print(f"NVD 2017-2024 coverage on the real data ({time.perf_counter() - t:.2f} s wall):")
    print(nvd.stdout)
    exe = Path(PY).with_name("routerwatch")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ROUTERWATCH_DB": f"sqlite:///{tmp}/kb.db"}
        subprocess.run([str(exe), "check", "Cisco RV320"], env=env, capture_output=True)
        walls, cpus = [], []
        for _ in range(5):
            t = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([str(exe), "check", "Cisco RV320", "--firmware", "1.4.2.17"],
                           env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        json_walls = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([str(exe), "check", "D-Link DIR-850L B1", "--firmware", "2.07",
                            "--format", "json"], env=env, capture_output=True)
            json_walls.append(time.perf_counter() - t)
    walls.sort()
    cpus.sort()
    json_walls.sort()
    print(f"check wall: median {walls[2]:.2f} s, best {walls[0]:.2f} s (5 runs, warm KB); "
          f"CPU median {cpus[2]:.2f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"check --format json (joined + coverage): median {json_walls[2]:.2f} s, "
          f"best {json_walls[0]:.2f} s (5 runs)")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of a child: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

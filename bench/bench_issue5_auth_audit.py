"""Headless time of notebooks 01 (auth methods) and 03 (audit devices).

Runs each notebook with papermill (as `labkit certify` and CI do) in a fresh
LABKIT_HOME, RUNS times, and prints the median wall time per notebook, the median
time spent in cells (from papermill's own per-cell records), and the sum.

    .venv/bin/python bench/bench_issue5_auth_audit.py [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("notebooks/01-auth-methods.ipynb", "notebooks/03-audit-devices.ipynb")
PAPERMILL = Path(sys.executable).with_name("papermill")


def run_once(notebook: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="bench5-") as tmp:
        out = Path(tmp) / "out.ipynb"
        env = dict(os.environ, LABKIT_HOME=str(Path(tmp) / "home"), LABKIT_LIFETIME="ephemeral")
        env.pop("JPY_SESSION_NAME", None)
        began = time.perf_counter()
        subprocess.run([str(PAPERMILL), "-k", "python3", "--no-progress-bar", notebook, str(out)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - began
        cells = json.loads(out.read_text())["cells"]
        in_cells = sum((c.get("metadata", {}).get("papermill", {}).get("duration") or 0) for c in cells)
        return wall, in_cells


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    total_wall = total_cells = 0.0
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, runs: {runs}")
    for notebook in NOTEBOOKS:
        results = [run_once(notebook) for _ in range(runs)]
        wall = statistics.median(r[0] for r in results)
        cells = statistics.median(r[1] for r in results)
        total_wall += wall
        total_cells += cells
        print(f"{notebook}: median wall {wall:.1f} s, median in cells {cells:.1f} s")
    print(f"both notebooks: median wall {total_wall:.1f} s (target ~35 s), in cells {total_cells:.1f} s")


if __name__ == "__main__":
    main()

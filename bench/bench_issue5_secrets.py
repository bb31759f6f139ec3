"""Headless run time of notebook 02 (secrets engines), as papermill runs it.

Each run gets a fresh LABKIT_HOME and an ephemeral lab, so every run starts the lab
server and PostgreSQL from nothing. Prints the median wall time, papermill's own
median duration, and the slowest cells (median over runs, from papermill's records).

    .venv/bin/python bench/bench_issue5_secrets.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02-secrets-engines.ipynb"


def one_run(workdir: Path, index: int) -> tuple[float, float, list[tuple[float, str]]]:
    home = Path(tempfile.mkdtemp(prefix=f"home{index}-", dir=workdir))
    out = workdir / f"out-{index}.ipynb"
    env = {**os.environ, "LABKIT_HOME": str(home), "LABKIT_LIFETIME": "ephemeral"}
    env.pop("JPY_SESSION_NAME", None)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "papermill"), "-k", "python3", "--no-progress-bar",
                    str(NOTEBOOK), str(out)], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    nb = nbformat.read(out, as_version=4)
    cells = [(c.metadata.get("papermill", {}).get("duration") or 0.0, c.source.splitlines()[0][:60])
             for c in nb.cells if c.cell_type == "code"]
    return wall, nb.metadata["papermill"]["duration"], cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-issue5-") as tmp:
        results = [one_run(Path(tmp), i) for i in range(args.runs)]
    walls = [r[0] for r in results]
    papermill = [r[1] for r in results]
    per_cell = {}
    for _, _, cells in results:
        for i, (seconds, first_line) in enumerate(cells):
            per_cell.setdefault((i, first_line), []).append(seconds)
    print(f"notebook 02 headless, {args.runs} runs, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"  wall time (papermill CLI, kernel start included): median {statistics.median(walls):.1f} s "
          f"(min {min(walls):.1f}, max {max(walls):.1f})")
    print(f"  papermill duration (cells only):                 median {statistics.median(papermill):.1f} s")
    print("  slowest cells (median s):")
    slowest = sorted(per_cell.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    for (index, first_line), seconds in slowest:
        print(f"    {statistics.median(seconds):6.2f}  cell {index}: {first_line}")


if __name__ == "__main__":
    main()

"""Certification of every notebook present, sequential (one at a time) versus
parallel (``--jobs``, default the number of CPUs). Prints the median wall time of
each, per-notebook medians, and the ratio (target: parallel <= 0.7 x sequential).

    .venv/bin/python bench/bench_certify.py [--repeat 1] [--jobs 2] [--only 00 01]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one_run(jobs: int, only, timeout: float) -> tuple[float, dict]:
    from labkit.evidence import certify

    out = Path(tempfile.mkdtemp(prefix=f"bench-certify-j{jobs}-"))
    os.environ["LABKIT_HOME"] = str(out / "home")
    try:
        began = time.perf_counter()
        result = certify("Bench", "bench", "all", output=out, jobs=jobs, only=only, timeout=timeout, progress=None)
        seconds = time.perf_counter() - began
        if result.hits:
            print(f"  secret scanner hits: {[str(h) for h in result.hits]}")
        return seconds, {r.stem: (r.status, r.seconds) for r in result.results}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", nargs="*", help="notebook prefixes (default: every notebook present)")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    from labkit.evidence import discover

    names = [e.stem for e in discover() if not args.only or e.prefix in args.only]
    print(f"notebooks: {', '.join(names)}; cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")
    runs: dict[int, list[float]] = {1: [], args.jobs: []}
    per_nb: dict[int, dict[str, list[float]]] = {1: {}, args.jobs: {}}
    statuses: dict[str, set] = {}
    for _ in range(args.repeat):
        for jobs in (1, args.jobs):
            seconds, results = one_run(jobs, args.only, args.timeout)
            runs[jobs].append(seconds)
            for stem, (status, secs) in results.items():
                per_nb[jobs].setdefault(stem, []).append(secs)
                statuses.setdefault(stem, set()).add(status)
            print(f"  jobs={jobs}: {seconds:.1f} s  " + " ".join(f"{s}={st}" for s, (st, _) in results.items()),
                  flush=True)
    seq, par = statistics.median(runs[1]), statistics.median(runs[args.jobs])
    print(f"\n{'notebook':<28} {'sequential s':>13} {'parallel s':>11}  status")
    for stem in names:
        print(f"{stem:<28} {statistics.median(per_nb[1].get(stem, [0])):>13.1f} "
              f"{statistics.median(per_nb[args.jobs].get(stem, [0])):>11.1f}  {','.join(sorted(statuses.get(stem, [])))}")
    print(f"\nsequential (jobs=1) median: {seq:.1f} s over {args.repeat} run(s)")
    print(f"parallel (jobs={args.jobs}) median: {par:.1f} s")
    print(f"ratio parallel/sequential: {par / seq:.2f} (target <= 0.70: {'met' if par / seq <= 0.7 else 'NOT met'})")
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

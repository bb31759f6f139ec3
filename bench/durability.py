#!/usr/bin/env python3
"""Durability of acknowledged writes across kill -9, on raft and on PostgreSQL.

Per cycle: write N secrets and keep those the server acknowledged, SIGKILL the server
(the leader, for the cluster), restart it, read back every secret acknowledged so far.
The target is zero lost writes over 10 cycles on each backend.

    .venv/bin/python bench/durability.py                 # 200 writes x 10 cycles, all backends
    .venv/bin/python bench/durability.py --small         # 10 writes x 2 cycles (CI)
    .venv/bin/python bench/durability.py --backend cluster --writes 500
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BACKENDS = ("raft", "cluster", "postgresql")


def run_backend(backend: str, writes: int, cycles: int, verbose: bool) -> dict:
    from labkit import VaultLab
    from labkit.storage import RaftCluster
    from labkit.storage.conformance import ClusterTarget, LabTarget, durability_cycles
    from labkit.storage.postgresql import start_postgres_lab

    progress = (lambda row: print(f"  {backend:<10} {json.dumps(row)}", flush=True)) if verbose else None
    began = time.perf_counter()
    if backend == "raft":
        lab = VaultLab("dur-raft", mode="durable", lifetime="ephemeral", export_env=False).start()
        try:
            rows = durability_cycles(LabTarget(lab, "raft"), writes, cycles, progress)
        finally:
            lab.stop()
    elif backend == "cluster":
        with RaftCluster("dur-cluster", lifetime="ephemeral") as cluster:
            rows = durability_cycles(ClusterTarget(cluster), writes, cycles, progress)
    elif backend == "postgresql":
        lab, pg = start_postgres_lab("dur-pg", lifetime="ephemeral")
        try:
            rows = durability_cycles(LabTarget(lab, "postgresql"), writes, cycles, progress)
        finally:
            lab.stop()
            pg.stop()
    else:
        raise SystemExit(f"unknown backend {backend!r}; use one of {BACKENDS}")
    recover = sorted(r["recover_s"] for r in rows)
    return {"backend": backend, "cycles": len(rows), "acknowledged": rows[-1]["total"] if rows else 0,
            "lost": sum(r["lost"] for r in rows), "max_lost_in_a_cycle": max((r["lost"] for r in rows), default=0),
            "recover_median_s": recover[len(recover) // 2] if recover else None,
            "seconds": round(time.perf_counter() - began, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--writes", type=int, default=200, help="acknowledged writes per cycle")
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--small", action="store_true", help="10 writes x 2 cycles (the CI run)")
    parser.add_argument("--json", action="store_true", help="print one JSON summary line per backend")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.small:
        args.writes, args.cycles = 10, 2
    own_home = None
    if "LABKIT_HOME" not in os.environ:
        own_home = tempfile.mkdtemp(prefix="labkit-bench-")
        os.environ["LABKIT_HOME"] = own_home
    os.environ["LABKIT_LIFETIME"] = "ephemeral"
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    failed = False
    try:
        for backend in backends:
            summary = run_backend(backend, args.writes, args.cycles, not args.quiet and not args.json)
            failed |= summary["lost"] > 0
            if args.json:
                print(json.dumps(summary), flush=True)
            else:
                print(f"{backend:<10} {summary['cycles']} cycles, {summary['acknowledged']} acknowledged writes, "
                      f"{summary['lost']} lost; median restart {summary['recover_median_s']} s "
                      f"({summary['seconds']} s)", flush=True)
    finally:
        if own_home:
            shutil.rmtree(own_home, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

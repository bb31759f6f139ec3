#!/usr/bin/env python3
"""Leader failover of a three-node raft cluster: SIGKILL the leader, measure until a
new leader is elected and until it accepts a write; restart the old leader; repeat.
Prints medians. The target: a new leader serves writes within 10 s.

    .venv/bin/python bench/bench_storage.py            # 7 failovers
    .venv/bin/python bench/bench_storage.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", type=int, default=3)
    args = parser.parse_args(argv)
    own_home = None
    if "LABKIT_HOME" not in os.environ:
        own_home = tempfile.mkdtemp(prefix="labkit-bench-")
        os.environ["LABKIT_HOME"] = own_home
    from labkit.storage import RaftCluster

    elections, writes, rejoins = [], [], []
    try:
        with RaftCluster("bench-failover", size=args.size, lifetime="ephemeral") as cluster:
            for run in range(args.runs):
                result = cluster.failover()
                rejoin = cluster.start_node(result["old"])
                elections.append(result["election_s"])
                writes.append(result["first_write_s"])
                rejoins.append(rejoin)
                print(f"run {run + 1}: {result['old']} killed, {result['new']} elected in "
                      f"{result['election_s']:.2f} s, first write {result['first_write_s']:.2f} s, "
                      f"old leader healthy again {rejoin:.2f} s", flush=True)
    finally:
        if own_home:
            shutil.rmtree(own_home, ignore_errors=True)
    print(f"median over {len(writes)} failovers: election {statistics.median(elections):.2f} s, "
          f"first write on the new leader {statistics.median(writes):.2f} s (max {max(writes):.2f} s), "
          f"old leader back {statistics.median(rejoins):.2f} s")
    return 0 if max(writes) < 10 else 1


if __name__ == "__main__":
    sys.exit(main())

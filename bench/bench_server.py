"""Lab server figures, as medians over repeated runs on this machine.

    .venv/bin/python bench/bench_server.py [--runs 7]

Prints: start call to authenticated client in dev mode and in durable mode (raft,
init + unseal), restart in durable mode (the server's graceful stop, then start to
unsealed), and the server's resident memory.
Targets (2-core machine): dev <= 0.5 s, durable <= 2.5 s, RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("LABKIT_LIFETIME", "ephemeral")

from labkit import VaultLab  # noqa: E402

TARGETS = {"dev start": 0.5, "durable start": 2.5, "durable restart": None, "  of which stop": None,
           "  of which start to unsealed": None, "server RSS (MB)": 150}


def timed_start(mode: str, home: str, name: str) -> tuple[float, VaultLab]:
    began = time.perf_counter()
    lab = VaultLab(name, mode=mode, home=home, export_env=False).start()
    assert lab.client.is_authenticated()
    return time.perf_counter() - began, lab


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {k: [] for k in TARGETS}
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as home:
        # One untimed start warms the page cache for the 180 MB binary, as any second run would.
        VaultLab("warm", home=home, export_env=False).start().stop(purge=True)
        for i in range(args.runs):
            seconds, lab = timed_start("dev", home, f"dev{i}")
            figures["dev start"].append(seconds)
            figures["server RSS (MB)"].append(lab.process.rss_bytes() / 1e6)
            lab.stop(purge=True)
            seconds, lab = timed_start("durable", home, f"durable{i}")
            figures["durable start"].append(seconds)
            lab.client.secrets.kv.v2.create_or_update_secret("bench", {"i": i})
            figures["durable restart"].append(lab.restart())
            figures["  of which stop"].append(lab.last_restart["stop"])
            figures["  of which start to unsealed"].append(lab.last_restart["start_to_unsealed"])
            lab.stop(purge=True)
    print(f"{'figure':<30}{'median':>10}{'min':>10}{'max':>10}{'target':>10}  runs={args.runs}")
    for name, values in figures.items():
        target = TARGETS[name]
        unit = "" if "MB" in name else " s"
        verdict = "" if target is None else ("  ok" if statistics.median(values) <= target else "  OVER")
        print(f"{name:<30}{statistics.median(values):>10.3f}{min(values):>10.3f}{max(values):>10.3f}"
              f"{('-' if target is None else target):>10}{verdict}{unit}")


if __name__ == "__main__":
    main()

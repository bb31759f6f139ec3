"""Figures for the container backend (issue 8): time from ContainerVaultLab.start()
to unsealed, restart, and stop-to-container-removed, against the process backend's
start. Needs the lab image and a Podman or Docker socket: run
`eval "$(scripts/podman-setup.sh env)"` and `scripts/podman-setup.sh service &` first,
or let this script start the Podman service itself (it does when DOCKER_HOST's socket
is absent and scripts/podman-setup.sh is usable).

    .venv/bin/python bench/bench_containers.py [--runs 3]
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

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="labkit-bench-containers-"))
    os.environ["LABKIT_HOME"] = str(home)
    os.environ["LABKIT_LIFETIME"] = "ephemeral"
    env_lines = subprocess.run([str(ROOT / "scripts/podman-setup.sh"), "all"], capture_output=True, text=True,
                               check=True).stdout
    for line in env_lines.splitlines():
        key, value = line.removeprefix("export ").replace("'", "").split("=", 1)
        os.environ.setdefault(key, value)
    from labkit import VaultLab
    from labkit.containers import ContainerVaultLab
    from labkit.services.supervisor import Lifetime, spawn

    service = None
    socket = Path(os.environ["DOCKER_HOST"].removeprefix("unix://"))
    if not socket.exists():
        service = spawn("podman-api", [str(ROOT / "scripts/podman-setup.sh"), "service"], home / "podman.log",
                        Lifetime.EPHEMERAL)
        service.wait_until(socket.exists, 60, "serving its socket")
    figures: dict[str, list[float]] = {"process start": [], "container start": [], "container restart": [],
                                       "container stop (removed)": []}
    try:
        for i in range(args.runs):
            began = time.perf_counter()
            lab = VaultLab(f"proc{i}", export_env=False).start()
            figures["process start"].append(time.perf_counter() - began)
            lab.stop(purge=True)

            began = time.perf_counter()
            lab = ContainerVaultLab(f"ctr{i}", export_env=False).start()
            figures["container start"].append(time.perf_counter() - began)
            figures["container restart"].append(lab.restart())
            began = time.perf_counter()
            lab.stop()
            while lab.server.containers(lab.workspace.root):
                time.sleep(0.05)
            figures["container stop (removed)"].append(time.perf_counter() - began)
            lab.stop(purge=True)
    finally:
        if service:
            service.stop()
    load = os.getloadavg()[0]
    print(f"bench_containers: {args.runs} runs, load average {load:.1f} on {os.cpu_count()} cores")
    for name, values in figures.items():
        print(f"  {name:28s} median {statistics.median(values):7.2f} s   (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Plugin development figures (issue 4), printed as medians:

* cold build: the secrets template built with an empty Go build cache (GOCACHE in a
  temporary folder; modules come from the module cache, as after `go mod download`);
* warm loop: edit a Go file, build a new version, register it, upgrade the mount
  (tune plugin_version + reload) - target at most 10 s;
* read latency: GET of the plugin's info path against a built-in KV v2 read, median
  ratio over many requests.

Usage: .venv/bin/python bench/bench_plugins.py [--loops 3] [--requests 300] [--skip-cold]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import VaultLab, plugins  # noqa: E402


def cold_build(work: Path) -> float:
    cache = work / "gocache"
    cache.mkdir()
    old = os.environ.get("GOCACHE")
    os.environ["GOCACHE"] = str(cache)
    try:
        src = plugins.new("cold-secrets", work / "cold-secrets")
        began = time.perf_counter()
        plugins.build(src, version="v0.1.0")
        return time.perf_counter() - began
    finally:
        if old is None:
            os.environ.pop("GOCACHE", None)
        else:
            os.environ["GOCACHE"] = old


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-cold", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-plugins-") as tmp:
        work = Path(tmp)
        os.environ["LABKIT_HOME"] = str(work / "home")
        os.environ["LABKIT_PLUGIN_CACHE"] = str(work / "plugin-builds")  # no binary from earlier runs
        if not args.skip_cold:
            cold = cold_build(work)
            print(f"cold build (empty GOCACHE): {cold:.1f} s")
        with VaultLab("bench", lifetime="ephemeral", plugin_dir=work / "home/labs/bench/plugins",
                      export_env=False) as lab:
            src = plugins.new("bench-secrets", work / "bench-secrets")
            first = plugins.build(src, version="v0.1.0", lab=lab)
            mount = plugins.enable(lab, plugins.register(lab, first), "bench")
            loops, builds, downtime = [], [], 0
            for i in range(1, args.loops + 1):
                began = time.perf_counter()
                (src.folder / "backend" / "zz_bench.go").write_text(
                    f"package backend\n\n// benchIteration changes the source on every loop.\nconst benchIteration = {i}\n")
                built = plugins.build(src, version=f"v0.1.{i}", lab=lab)
                builds.append(built.seconds)
                result = plugins.upgrade(lab, mount, plugins.register(lab, built))
                loops.append(time.perf_counter() - began)
                downtime += result.probe_failures
                mount = plugins.find_mount(lab, "bench")
            print(f"warm edit-build-register-reload loop: median {statistics.median(loops):.1f} s "
                  f"(build {statistics.median(builds):.1f} s; {len(loops)} loops: "
                  f"{', '.join(f'{x:.1f}' for x in loops)}; failed reads during upgrades: {downtime}) "
                  f"target <= 10 s: {'met' if statistics.median(loops) <= 10 else 'MISSED'}")
            latency = plugins.measure_latency(lab, "bench/info", requests_each=args.requests)
            print(f"read latency: plugin median {latency.plugin_median:.2f} ms, KV median "
                  f"{latency.kv_median:.2f} ms, ratio {latency.ratio:.2f} ({args.requests} requests each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the pkcs11 seal on SoftHSM (issue 6): prints medians.

    .venv/bin/python bench/bench_hsm.py [--rounds 5] [--notebook]

Figures:
* plugin build, cached: build_plugin() when the cache holds the binary;
* init behind the seal: PUT /v1/sys/init on a fresh durable lab sealed by the HSM;
* first start to unsealed: lab.start() on a fresh lab (launch + init + active);
* restart to unsealed: lab.restart() (SIGTERM stop + launch + unseal through the plugin),
  and its two parts: stop, and launch to unsealed;
* notebook headless (with --notebook): papermill on notebooks/04-hsm-pkcs11.ipynb.
Every lab lives under a temporary LABKIT_HOME and is ephemeral.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ["LABKIT_HOME"] = tempfile.mkdtemp(prefix="bench-hsm-")
os.environ["LABKIT_LIFETIME"] = "ephemeral"

from labkit import VaultLab  # noqa: E402
from labkit.hsm import SoftHSMToken  # noqa: E402
from labkit.hsm.kms_plugin import build_plugin, configure_pkcs11_seal  # noqa: E402


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s (n={len(values)}, min {min(values):.3f}, max {max(values):.3f})"


def sealed_lab(name: str) -> tuple[VaultLab, SoftHSMToken]:
    lab = VaultLab(name, mode="durable", lifetime="ephemeral", export_env=False)
    lab.plugin_dir = lab.workspace.path("plugins")
    token = SoftHSMToken(lab.workspace, "vault-hsm").ensure()
    token.aes_key("bao-root-key")
    configure_pkcs11_seal(lab, token, "bao-root-key")
    return lab, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--notebook", action="store_true", help="also time the notebook headless")
    args = parser.parse_args()

    build_plugin()  # warm the cache if needed (not timed)
    cached = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        assert not build_plugin().built
        cached.append(time.perf_counter() - began)

    init_times, first_start = [], []
    original = VaultLab._initialise

    def timed_initialise(self):
        began = time.perf_counter()
        try:
            return original(self)
        finally:
            init_times.append(time.perf_counter() - began)

    VaultLab._initialise = timed_initialise
    labs = []
    try:
        for i in range(args.rounds):
            lab, _ = sealed_lab(f"bench-init-{i}")
            began = time.perf_counter()
            lab.start()
            first_start.append(time.perf_counter() - began)
            assert lab.seal_status()["type"] == "pkcs11"
            labs.append(lab)
    finally:
        VaultLab._initialise = original
        for lab in labs[1:]:
            lab.stop()

    lab = labs[0]
    restarts, stops, launches = [], [], []
    try:
        for _ in range(args.rounds):
            restarts.append(lab.restart())
            assert not lab.seal_status()["sealed"]
        for _ in range(args.rounds):
            began = time.perf_counter()
            lab.stop()
            stops.append(time.perf_counter() - began)
            began = time.perf_counter()
            lab.start()
            launches.append(time.perf_counter() - began)
            assert not lab.seal_status()["sealed"]
    finally:
        lab.stop()

    print(f"plugin build (cached)            {median(cached)}")
    print(f"init behind the pkcs11 seal      {median(init_times)}   target <= 3 s")
    print(f"first start to unsealed          {median(first_start)}")
    print(f"restart to unsealed (restart())  {median(restarts)}   target <= 0.5 s")
    print(f"  of which: stop (SIGTERM)       {median(stops)}")
    print(f"  of which: launch to unsealed   {median(launches)}")

    if args.notebook:
        out = Path(os.environ["LABKIT_HOME"]) / "04-out.ipynb"
        env = {**os.environ, "LABKIT_HOME": os.path.join(os.environ["LABKIT_HOME"], "notebook")}
        began = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/papermill"), "-k", "python3", "--no-progress-bar",
                        str(ROOT / "notebooks/04-hsm-pkcs11.ipynb"), str(out)], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"notebook 04 headless (papermill) {time.perf_counter() - began:.1f} s   target <= 90 s")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        shutil.rmtree(os.environ["LABKIT_HOME"], ignore_errors=True)
    sys.exit(code)

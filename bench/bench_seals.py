"""Auto-unseal figures (issue 6): medians on this machine, printed as a table.

* init behind each auto-unseal seal (transit, KMIP via SoftHSM, static): from
  ``VaultLab.start()`` on an empty lab to initialised, unsealed and active
  (target <= 3 s);
* restart-to-unsealed through each seal: the server process stopped, then from
  ``start()`` to unsealed and active (target <= 0.5 s); the full ``restart()``
  (graceful stop included) is printed beside it;
* optionally (``--notebook``) notebook 05 headless with papermill, wall time.

    .venv/bin/python bench/bench_seals.py [--repeat 5] [--inits 3] [--notebook]
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
sys.path.insert(0, str(ROOT))
os.environ["LABKIT_HOME"] = tempfile.mkdtemp(prefix="bench-seals-")
os.environ["LABKIT_LIFETIME"] = "ephemeral"

from labkit import VaultLab  # noqa: E402
from labkit.seals import LabKmipServer, TransitUnsealer, reset_labs, static_key, static_stanza  # noqa: E402


def _timed_start(lab) -> float:
    began = time.perf_counter()
    lab.start()
    return time.perf_counter() - began


def _restart_figures(lab, repeat: int) -> tuple[list[float], list[float]]:
    start_only, full = [], []
    for _ in range(repeat):
        lab.process.stop()
        start_only.append(_timed_start(lab))
        full.append(lab.restart())
    return start_only, full


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="restarts per seal")
    parser.add_argument("--inits", type=int, default=3, help="fresh inits per seal")
    parser.add_argument("--notebook", action="store_true", help="also time notebook 05 with papermill")
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}", flush=True)

    unsealer = TransitUnsealer("bench", lifetime="ephemeral").start()
    kmip_home = VaultLab("bench-kmip-ca", mode="durable", lifetime="ephemeral", export_env=False)
    kmip = LabKmipServer(kmip_home).start()
    cert = kmip.client_cert()

    def stanza(seal: str, lab) -> str:
        if seal == "transit":
            return unsealer.seal_stanza(unsealer.issue_token())
        if seal == "kmip":
            return kmip.seal_stanza(kmip.create_key(cert), cert)
        key_id, path = static_key(lab)
        return static_stanza(key_id, path)

    rows = []
    for seal in ("transit", "kmip", "static", "shamir"):
        inits, last = [], None
        for i in range(args.inits):
            name = f"bench-{seal}-{i}"
            lab = VaultLab(name, mode="durable", lifetime="ephemeral", export_env=False)
            if seal != "shamir":
                lab.set_config_fragment("seal", stanza(seal, lab))
            inits.append(_timed_start(lab))
            if last is not None:
                last.stop()
                reset_labs(last.name)
            last = lab
        start_only, full = _restart_figures(last, args.repeat)
        assert last.seal_status()["type"] == seal and not last.seal_status()["sealed"]
        last.stop()
        rows.append((seal, statistics.median(inits), statistics.median(start_only), statistics.median(full)))
        print(f"  {seal}: init {inits}, start {[round(s, 2) for s in start_only]}", flush=True)

    print(f"\n{'seal':<8} {'init s':>7} {'start->unsealed s':>18} {'restart() s':>12}   targets: init <= 3, "
          "restart-to-unsealed <= 0.5")
    for seal, init, start, full in rows:
        init_txt = "-" if seal == "shamir" else f"{init:.2f}"
        print(f"{seal:<8} {init_txt:>7} {start:>18.2f} {full:>12.2f}")
    kmip.stop()
    unsealer.stop()

    if args.notebook:
        began = time.perf_counter()
        out = Path(tempfile.mkdtemp()) / "05.ipynb"
        env = {**os.environ, "LABKIT_HOME": tempfile.mkdtemp(prefix="bench-nb05-")}
        result = subprocess.run([str(ROOT / ".venv/bin/papermill"), "-k", "python3",
                                 str(ROOT / "notebooks/05-auto-unseal.ipynb"), str(out)],
                                env=env, capture_output=True, text=True)
        print(f"\nnotebook 05 headless (papermill): {time.perf_counter() - began:.1f} s, "
              f"exit {result.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

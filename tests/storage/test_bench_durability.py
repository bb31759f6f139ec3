"""CI runs the durability script with small numbers: a kill -9 must lose no
acknowledged write. (The cluster and PostgreSQL variants run in the other storage
tests through the same durability_cycles function; the full run is bench/durability.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_durability_script_small_run_loses_nothing():
    home = tempfile.mkdtemp(prefix="durability-", dir=os.environ["LABKIT_HOME"])
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "durability.py"), "--small", "--backend", "raft",
                          "--json"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "LABKIT_HOME": home}, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary == summary | {"backend": "raft", "cycles": 2, "acknowledged": 20, "lost": 0}

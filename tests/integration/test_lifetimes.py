"""The two lifetimes, across real processes: ephemeral labs die with their owner even
on SIGKILL; persistent labs survive it and are re-attached by name."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from labkit import VaultLab, list_labs, stop_lab

pytestmark = pytest.mark.integration

OWNER = textwrap.dedent("""
    import json, sys, time
    from labkit import VaultLab
    lab = VaultLab(sys.argv[1], mode=sys.argv[2], lifetime=sys.argv[3]).start()
    lab.client.secrets.kv.v2.create_or_update_secret("mark", {"owner": "first"}) if sys.argv[2] == "dev" else None
    print(json.dumps({"pid": lab.process.pid, "address": lab.address}), flush=True)
    if sys.argv[4] == "wait":
        time.sleep(600)
""")


def run_owner(name, mode, lifetime, wait):
    proc = subprocess.Popen([sys.executable, "-c", OWNER, name, mode, lifetime, wait],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    info = json.loads(proc.stdout.readline())
    return proc, info


def gone(pid, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("mode", ["dev", "durable"])
def test_ephemeral_lab_dies_when_its_owner_is_sigkilled(lab_home, mode, leftover_processes):
    owner, info = run_owner(f"eph-{mode}", mode, "ephemeral", "wait")
    assert psutil.pid_exists(info["pid"])
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert gone(info["pid"]), "the server outlived its SIGKILLed owner"
    assert leftover_processes(lab_home) == []


def test_ephemeral_lab_stops_at_normal_exit(lab_home):
    owner, info = run_owner("eph-exit", "dev", "ephemeral", "exit")
    owner.wait(timeout=30)
    assert gone(info["pid"])


def test_persistent_lab_survives_its_owner_and_is_reattached(lab_home):
    owner, info = run_owner("keep", "dev", "persistent", "exit")
    owner.wait(timeout=30)
    try:
        assert psutil.pid_exists(info["pid"]) and not gone(info["pid"], timeout=1)
        listed = {lab.name: lab for lab in list_labs()}
        assert listed["keep"].running and listed["keep"].pid == info["pid"]
        # A new kernel runs the notebook again: same server, same data, no second server.
        lab = VaultLab("keep", lifetime="persistent", export_env=False).start()
        assert lab.attached and lab.process.pid == info["pid"] and lab.address == info["address"]
        assert lab.client.secrets.kv.v2.read_secret_version(
            "mark", raise_on_deleted_version=True)["data"]["data"] == {"owner": "first"}
        out = subprocess.run([sys.executable, "-m", "labkit.cli", "ps"], capture_output=True, text=True)
        assert "keep" in out.stdout and "running" in out.stdout
        out = subprocess.run([sys.executable, "-m", "labkit.cli", "stop", "keep"], capture_output=True, text=True)
        assert out.returncode == 0 and "stopped" in out.stdout
        assert gone(info["pid"])
    finally:
        if psutil.pid_exists(info["pid"]):
            stop_lab("keep")


def test_stop_all_and_unknown_lab(lab_home):
    for name in ("one", "two"):
        owner, _ = run_owner(name, "dev", "persistent", "exit")
        owner.wait(timeout=30)
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "stop", "--all"], capture_output=True, text=True)
    assert out.returncode == 0 and "one: stopped" in out.stdout and "two: stopped" in out.stdout
    assert not any(lab.running for lab in list_labs())
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "stop", "nosuch"], capture_output=True, text=True)
    assert out.returncode == 2 and "labkit ps" in out.stderr


def test_stale_state_after_a_crash_starts_a_fresh_dev_server(lab_home):
    lab = VaultLab("stale", export_env=False).start()
    old_pid = lab.process.pid
    lab.kill()
    again = VaultLab("stale", export_env=False).start()
    try:
        assert again.process.pid != old_pid and again.client.is_authenticated()
    finally:
        again.stop()


def test_labkit_stop_also_stops_side_services_of_the_lab(lab_home):
    from labkit.services.supervisor import Lifetime, spawn

    owner, info = run_owner("withside", "dev", "persistent", "exit")
    owner.wait(timeout=30)
    lab = VaultLab("withside", lifetime="persistent", export_env=False).start()
    side = spawn("side", [sys.executable, "-c", "import time; time.sleep(300)"], lab.workspace.logs_dir / "side.log",
                 Lifetime.PERSISTENT, cwd=lab.workspace.root)
    other = spawn("other", [sys.executable, "-c", "import time; time.sleep(300)"], lab_home / "other.log",
                  Lifetime.EPHEMERAL, cwd=lab_home)
    try:
        assert side.alive()
        stop_lab("withside")
        assert gone(side.pid) and gone(info["pid"])
        assert other.alive(), "a process outside the lab folder was stopped"
    finally:
        other.stop()
        side.stop()

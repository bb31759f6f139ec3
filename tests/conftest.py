"""Test-wide setup: every lab the suite starts lives under one private temporary
LABKIT_HOME and is ephemeral; at the end no process started there may remain."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import psutil
import pytest

_HOME = Path(tempfile.mkdtemp(prefix="labkit-test-"))
os.environ["LABKIT_HOME"] = str(_HOME)
os.environ["LABKIT_LIFETIME"] = "ephemeral"
os.environ.pop("JPY_SESSION_NAME", None)


def lab_processes(root: Path) -> list[psutil.Process]:
    """Processes whose command line or working folder is under ``root``."""
    found = []
    marker = str(root)
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if proc.pid == os.getpid():
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
            if marker in cmd or (proc.info["cwd"] or "").startswith(marker):
                found.append(proc)
        except (psutil.Error, TypeError):
            continue
    return found


def wait_no_lab_processes(root: Path, timeout: float = 15.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while True:
        left = lab_processes(root)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.fixture(scope="session", autouse=True)
def no_orphans_at_end():
    """The whole run must leave no lab process behind (ephemeral labs die with us)."""
    yield _HOME
    from labkit.services.supervisor import _stop_ephemeral_at_exit

    _stop_ephemeral_at_exit()
    left = wait_no_lab_processes(_HOME)
    for proc in left:
        try:
            proc.kill()
        except psutil.Error:
            pass
    shutil.rmtree(_HOME, ignore_errors=True)
    assert not left, f"lab processes left running: {[(p.pid, p.info.get('cmdline')) for p in left]}"


@pytest.fixture
def leftover_processes():
    """``leftover_processes(root)``: lab processes still running under ``root`` after
    waiting up to 15 s for them to go."""
    return wait_no_lab_processes


@pytest.fixture
def lab_home(tmp_path, monkeypatch) -> Path:
    """A LABKIT_HOME of the test's own (under the session home, so the orphan check sees it)."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=_HOME))
    monkeypatch.setenv("LABKIT_HOME", str(home))
    return home


@pytest.fixture
def dev_lab(lab_home):
    """A running ephemeral dev lab, stopped after the test."""
    from labkit import VaultLab

    with VaultLab("test", mode="dev", lifetime="ephemeral", export_env=False) as lab:
        yield lab

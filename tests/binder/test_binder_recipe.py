"""Replay the Binder recipe as repo2docker would: a non-root user, a fresh virtual
environment, binder/requirements.txt, binder/postBuild, then binder/start running the
start notebook headless. Proves the lab works without root and without containers."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
USER = "labkit-binder"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_recipe_files_follow_repo2docker_conventions():
    assert (BINDER / "requirements.txt").read_text().splitlines()[-1].strip() in ("-e .", ".")
    for script in ("postBuild", "start"):
        path = BINDER / script
        assert os.access(path, os.X_OK), f"binder/{script} must be executable"
    assert "set -e" in (BINDER / "postBuild").read_text()
    assert (BINDER / "start").read_text().rstrip().splitlines()[-1] == 'exec "$@"'
    apt = [line.strip() for line in (BINDER / "apt.txt").read_text().splitlines() if line.strip()]
    assert {"softhsm2", "opensc"} <= set(apt)
    assert not list(BINDER.glob("*ockerfile*")), "Dockerfiles belong in environments/, not binder/"


def _user() -> tuple[str | None, Path]:
    """The non-root account to run as: ours if we are not root, else a system user."""
    if os.getuid() != 0:
        return None, Path.home()
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
    return USER, Path(pwd.getpwnam(USER).pw_dir)


def _run(user, home: Path, script: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": f"{home}/venv/bin:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "PIP_CACHE_DIR": str(home / ".cache" / "pip"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    argv = ["bash", "-c", script]
    if user:
        argv = ["runuser", "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()], *argv]
    return subprocess.run(argv, cwd=cwd, env=env if not user else None, capture_output=True, text=True,
                          timeout=timeout)


def test_binder_recipe_as_non_root_user(tmp_path):
    user, home = _user()
    repo = home / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    if user:
        subprocess.run(["chown", "-R", f"{user}:{user}", str(home)], check=True)

    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    build = _run(user, home, f"""set -e
        rm -rf "$HOME/venv" "$HOME/.jupyter" "$HOME/.labkit"
        /usr/bin/python{py} -m venv "$HOME/venv"
        pip install -q -r binder/requirements.txt
        binder/postBuild""", repo, timeout=1200)
    assert build.returncode == 0, f"recipe failed:\n{build.stdout[-2000:]}\n{build.stderr[-4000:]}"
    assert "labkit 0.1.0" in build.stdout

    began = time.time()
    run = _run(user, home, """set -e
        binder/start papermill -k python3 --cwd notebooks notebooks/00-start-here.ipynb "$HOME/00-out.ipynb" """, repo, timeout=600)
    assert run.returncode == 0, f"start notebook failed as {user or 'this user'}:\n{run.stderr[-4000:]}"
    lab_dir = home / ".labkit" / "labs" / "start"  # binder/start set LABKIT_HOME
    assert lab_dir.is_dir() and (lab_dir.stat().st_mode & 0o777) == 0o700
    assert (lab_dir / "logs" / "server.log").stat().st_uid == pwd.getpwnam(user).pw_uid if user else True

    deadline = time.monotonic() + 15
    left = []
    while time.monotonic() < deadline:
        left = [p for p in psutil.process_iter(["username", "cmdline", "create_time"])
                if p.info["username"] == (user or pwd.getpwuid(os.getuid()).pw_name)
                and p.info["create_time"] >= began - 1 and p.pid != os.getpid()
                and any(".labkit" in part for part in (p.info["cmdline"] or []))]
        if not left:
            break
        time.sleep(0.3)
    assert not left, f"processes left by the Binder run: {[p.info['cmdline'] for p in left]}"

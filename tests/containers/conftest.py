"""Real Podman for the container backend: configured and its images built by
scripts/podman-setup.sh (cached under ~/.cache/labkit), its API service run through
the supervisor with a socket inside the test LABKIT_HOME."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "podman-setup.sh"


@pytest.fixture(scope="session")
def podman_socket(no_orphans_at_end):
    from labkit.services.supervisor import Lifetime, spawn

    done = subprocess.run([str(SETUP), "all"], capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, f"podman-setup.sh failed:\n{done.stderr[-3000:]}"
    env = dict(line.removeprefix("export ").replace("'", "").split("=", 1)
               for line in done.stdout.splitlines() if line.startswith("export "))
    socket = no_orphans_at_end / "podman.sock"
    env["LABKIT_PODMAN_SOCKET"] = str(socket)
    env["DOCKER_HOST"] = f"unix://{socket}"
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    service = spawn("podman-api", [str(SETUP), "service"], no_orphans_at_end / "podman-api.log",
                    Lifetime.EPHEMERAL, env=env)
    service.wait_until(socket.exists, 60, "serving its socket")
    yield env["DOCKER_HOST"]
    service.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def engine(podman_socket):
    from labkit.containers import connect

    return connect(podman_socket)


def lab_containers(engine) -> list:
    return engine.containers.list(all=True, filters={"label": "labkit.workspace"})


def wait_no_containers(engine, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while (left := lab_containers(engine)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left

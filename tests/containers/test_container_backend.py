"""The container backend against real Podman: clear errors, the start notebook run
unchanged with LABKIT_BACKEND=container, and no container left behind, even when
the lab's owner is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from labkit.containers import ContainerUnavailable, ContainerVaultLab, backend_choice, lab_class
from labkit.errors import LabError
from labkit.lab import VaultLab

from .conftest import lab_containers, wait_no_containers

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_backend_choice(monkeypatch):
    monkeypatch.delenv("LABKIT_BACKEND", raising=False)
    assert lab_class() is VaultLab
    monkeypatch.setenv("LABKIT_BACKEND", "container")
    assert lab_class() is ContainerVaultLab
    with pytest.raises(LabError, match="process"):
        backend_choice("kubernetes")
    # The facade itself picks the backend: unchanged notebooks run in a container.
    assert type(VaultLab("picked", backend="container")) is ContainerVaultLab
    monkeypatch.delenv("LABKIT_BACKEND")
    assert type(VaultLab("picked")) is VaultLab


def test_no_socket_says_how_to_fall_back(lab_home, tmp_path):
    lab = ContainerVaultLab("nosock", socket=f"unix://{tmp_path}/absent.sock", export_env=False)
    with pytest.raises(ContainerUnavailable) as err:
        lab.start()
    assert "does not answer" in str(err.value) and "process backend" in str(err.value)
    assert not lab.running


def test_missing_image_says_how_to_build_or_fall_back(lab_home, podman_socket):
    lab = ContainerVaultLab("noimage", socket=podman_socket, image="localhost/labkit-absent:0", export_env=False)
    with pytest.raises(ContainerUnavailable) as err:
        lab.start()
    text = str(err.value)
    assert "localhost/labkit-absent:0" in text and "podman-setup.sh" in text and "process backend" in text


@pytest.mark.parametrize("notebook", ["00-start-here", "04-hsm-pkcs11"])
def test_notebook_runs_in_a_container(notebook, lab_home, podman_socket, engine, tmp_path, monkeypatch):
    """The notebook, unchanged, with LABKIT_BACKEND=container (04: the real pkcs11 seal,
    its KMS plugin and SoftHSM all inside the container, tokens in the lab folder)."""
    import papermill

    monkeypatch.setenv("LABKIT_BACKEND", "container")
    out = tmp_path / f"{notebook}-out.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(out),
                               kernel_name="python3", cwd=str(ROOT / "notebooks"), progress_bar=False)
    logs = [p.read_text() for p in lab_home.glob("labs/*/logs/server.log")]
    assert any("[labkit] container labkit-" in log and "vault is unsealed" in log for log in logs), \
        "no lab server of this notebook ran in a container"
    assert wait_no_containers(engine) == []  # the kernel exited; its ephemeral lab's container is gone


def test_sigkilled_owner_leaves_no_container(lab_home, podman_socket, engine, tmp_path):
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal
        from labkit.containers import ContainerVaultLab
        lab = ContainerVaultLab("orphan", socket={podman_socket!r}, lifetime="ephemeral", export_env=False).start()
        lab.client.secrets.kv.v2.create_or_update_secret("k", {{"v": 1}})
        print(lab.container.name, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert done.stdout.startswith("labkit-orphan-")
    assert wait_no_containers(engine, 60) == []


def test_restart_kill_and_stop(lab_home, podman_socket, engine):
    lab = ContainerVaultLab("cycle", mode="durable", key_shares=1, key_threshold=1, socket=podman_socket,
                            lifetime="ephemeral", export_env=False).start()
    try:
        lab.client.sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
        lab.client.secrets.kv.v2.create_or_update_secret("kept", {"v": "durable"}, mount_point="kv")
        assert lab.status().sealed is False and lab.container.status == "running"
        lab.relaunch()  # no init, no unseal: the sealed server answers from a new container
        assert lab.seal_status()["sealed"] is True and lab.container.status == "running"
        lab.kill()
        assert lab_containers(engine) == []
        lab.start()  # raft data in the lab folder survives a new container
        assert lab.client.secrets.kv.v2.read_secret_version("kept", mount_point="kv",
                                                            raise_on_deleted_version=True)["data"]["data"] == {"v": "durable"}
    finally:
        lab.stop()
    assert wait_no_containers(engine) == []

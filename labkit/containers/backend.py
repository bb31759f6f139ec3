"""The container backend: the lab server runs in a container, the lab stays the same.

``ContainerServer`` starts a lab's server in a container through the Docker API
(Docker Engine, or Podman's Docker-compatible socket). The container uses the host's
network, binds 127.0.0.1 only, and sees the lab folder at the same path, so the
rendered config, TLS files, raft data and SoftHSM tokens are where the process
backend keeps them. Its stand-in on the host is a watcher process
(:mod:`labkit.containers.watcher`) started by the supervisor with the lab's lifetime:
``LabProcess`` readiness waits, logs, stop and the reaper work unchanged, and the
container goes when the watcher goes.

``ContainerVaultLab`` is ``VaultLab`` with that one difference::

    lab = ContainerVaultLab("demo").start()      # or LABKIT_BACKEND=container
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from ..errors import PortBusy, ServerStartError
from ..lab import VaultLab
from ..services.supervisor import LabProcess, spawn
from ..workspace import write_private
from .engine import FALLBACK, ContainerUnavailable, connect
from .image import image_exists, image_tag

SPEC = "container.json"


def backend_choice(backend: str | None = None) -> str:
    """``backend``, else ``$LABKIT_BACKEND``, else ``process`` (the facade's own rule)."""
    from ..lab import _backend

    return _backend(backend)


def container_name(workspace) -> str:
    """One container name per lab folder: two LABKIT_HOMEs never collide."""
    digest = hashlib.sha256(str(workspace.root).encode()).hexdigest()[:8]
    return f"labkit-{workspace.name}-{digest}"


class ContainerServer:
    """Runs one lab's server in a container; the lab sees a ``LabProcess``."""

    def __init__(self, socket: str | None = None, image: str | None = None):
        self._socket = socket
        self._image = image
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = connect(self._socket)
        return self._client

    def _resolved_socket(self) -> str:
        from .engine import socket_url

        return socket_url(self._socket)

    def image_for(self, binary) -> str:
        return self._image or os.environ.get("LABKIT_IMAGE") or image_tag(binary)

    def check_image(self, binary) -> str:
        tag = self.image_for(binary)
        if not image_exists(self.client, tag):
            raise ContainerUnavailable(
                f"The lab image {tag} is not in the container engine at {self._resolved_socket()}.",
                "Build it: `scripts/podman-setup.sh` (Podman, no registry needed) or "
                "`python -m labkit.containers.image build` (Docker); " + FALLBACK,
            )
        return tag

    def spec(self, lab, argv: list[str], env: dict, mounts: list[Path]) -> dict:
        roots = []
        for path in mounts:
            path = str(Path(path).resolve())
            if not any(path == r or path.startswith(r + os.sep) for r in roots):
                roots.append(path)
        return {
            "socket": self._resolved_socket(),
            "image": self.image_for(lab.binary),
            "name": container_name(lab.workspace),
            "command": argv,
            "environment": {k: v for k, v in env.items() if v != ""},
            "mounts": roots,
            "workdir": str(lab.workspace.root),
            "user": f"{os.getuid()}:{os.getgid()}",
            "labels": {"labkit.lab": lab.name, "labkit.workspace": str(lab.workspace.root)},
            "stop_timeout": 10,
        }

    def spawn(self, lab, argv: list[str], env: dict, mounts: list[Path]) -> LabProcess:
        """Start the watcher, which creates and starts the container."""
        self.check_image(lab.binary)
        spec_path = write_private(lab.config_dir / SPEC, json.dumps(self.spec(lab, argv, env, mounts), indent=2))
        return spawn("server", [sys.executable, "-m", "labkit.containers.watcher", str(spec_path)],
                     lab.log_path, lab.lifetime, cwd=lab.workspace.root)

    def kill(self, lab) -> None:
        """SIGKILL the server inside the container, as a crash would."""
        import docker.errors

        try:
            self.client.containers.get(container_name(lab.workspace)).kill(signal="SIGKILL")
        except docker.errors.NotFound:
            pass

    def containers(self, workspace_root: str | Path | None = None) -> list:
        """The lab's containers (all of them, or one lab folder's)."""
        label = "labkit.workspace"
        filters = {"label": f"{label}={workspace_root}" if workspace_root else label}
        return self.client.containers.list(all=True, filters=filters)


def cleanup_orphans(server: ContainerServer | None = None) -> list[str]:
    """Remove lab containers whose lab folder has no running watcher (left when a
    watcher itself was SIGKILLed). Returns the names removed."""
    server = server or ContainerServer()
    removed = []
    for container in server.containers():
        root = Path(container.labels.get("labkit.workspace", ""))
        try:
            state = json.loads((root / "state.json").read_text())
        except (OSError, ValueError):
            state = {}
        proc = LabProcess.attach(state["process"]) if state.get("process") else None
        if proc is None:
            container.remove(force=True)
            removed.append(container.name)
    return removed


class ContainerVaultLab(VaultLab):
    """``VaultLab`` whose server runs in a container (see the module docstring)."""

    def __init__(self, name: str = "lab", *, socket: str | None = None, image: str | None = None, **kwargs):
        kwargs["backend"] = "container"
        super().__init__(name, **kwargs)
        self.server = ContainerServer(socket, image)

    def __repr__(self) -> str:
        return super().__repr__().replace("VaultLab(", "ContainerVaultLab(", 1)

    def _server_process(self) -> LabProcess:
        """The server, in a container; its host stand-in is the watcher process."""
        mounts = [self.workspace.root]
        if self.plugin_dir:
            mounts.append(self.plugin_dir)
        env = dict(self._server_env())
        softhsm = os.environ.get("SOFTHSM2_CONF")
        if softhsm:
            env["SOFTHSM2_CONF"] = softhsm
            mounts.append(Path(softhsm).parent)
        argv = [f"/usr/local/bin/{self.binary.cli_name}", "server", f"-config={self.config_dir}"]
        return self.server.spawn(self, argv, env, mounts)

    def _start_error(self, exc: ServerStartError, port_clash: bool) -> Exception:
        """A port clash names the container and the way back to the process backend."""
        if port_clash:
            return PortBusy(
                f"The server in the container could not bind 127.0.0.1:{self.port}: "
                "the port is in use on this machine (the container shares the host's network).",
                "Leave port unset so the lab picks a free one, or stop what listens there; " + FALLBACK)
        return ServerStartError(exc.problem, (exc.fix or "") + " Or, " + FALLBACK)

    def _write_state(self) -> None:
        super()._write_state()
        state = self.workspace.read_json("state.json")
        state["container"] = container_name(self.workspace)
        self.workspace.write_json("state.json", state)

    def kill(self) -> None:
        """SIGKILL the server in its container; the watcher then removes the container."""
        self.server.kill(self)
        deadline = time.monotonic() + 10
        while self.process.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.process.kill()
        self.workspace.delete("state.json")

    @property
    def container(self):
        """The running container (a ``docker`` SDK object), or None."""
        found = self.server.containers(self.workspace.root)
        return found[0] if found else None


def lab_class(backend: str | None = None) -> type[VaultLab]:
    """The lab class for ``backend`` (or ``$LABKIT_BACKEND``)."""
    return ContainerVaultLab if backend_choice(backend) == "container" else VaultLab


def open_lab(name: str = "lab", *, backend: str | None = None, **kwargs) -> VaultLab:
    """``VaultLab(name, **kwargs)`` on the chosen backend (not started)."""
    return lab_class(backend)(name, **kwargs)

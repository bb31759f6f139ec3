"""The container engine: a Docker API socket (Docker Engine or Podman's
Docker-compatible service), found and checked once, with errors that say how to
fall back to the process backend."""

from __future__ import annotations

import os

from ..errors import LabError

FALLBACK = ("or run the lab without containers (the process backend, the default): "
            "unset LABKIT_BACKEND or pass backend='process'.")


class ContainerUnavailable(LabError):
    """No container engine answers, or the lab image is missing."""


def socket_url(socket: str | None = None) -> str | None:
    """``socket``, ``$LABKIT_CONTAINER_SOCKET``, ``$DOCKER_HOST``, then the usual
    Docker and Podman sockets."""
    if socket:
        return socket if "://" in socket else f"unix://{socket}"
    env = os.environ.get("LABKIT_CONTAINER_SOCKET")
    if env:
        return env if "://" in env else f"unix://{env}"
    from ..doctor import container_socket

    return container_socket()


def connect(socket: str | None = None, timeout: float = 60):
    """A ``docker.DockerClient`` that answered a ping."""
    import docker

    url = socket_url(socket)
    if not url:
        raise ContainerUnavailable(
            "No Docker or Podman socket was found (looked at $LABKIT_CONTAINER_SOCKET, $DOCKER_HOST, "
            "/var/run/docker.sock and Podman's sockets).",
            "Start Docker, or Podman's API service (`scripts/podman-setup.sh service` or "
            "`podman system service --time=0 unix:///PATH/podman.sock`) and set DOCKER_HOST=unix:///PATH/podman.sock; "
            + FALLBACK,
        )
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        client.ping()
    except Exception as exc:  # the SDK raises several unrelated types for a dead socket
        raise ContainerUnavailable(
            f"The container engine at {url} does not answer ({type(exc).__name__}: {exc}).",
            "Start Docker or the Podman API service behind that socket, point DOCKER_HOST at a live one, "
            + FALLBACK,
        ) from None
    return client

"""Running the lab server in a container (Docker Engine or Podman) instead of as a
local process. See :mod:`labkit.containers.backend`."""

from .backend import (
    ContainerServer,
    ContainerVaultLab,
    backend_choice,
    cleanup_orphans,
    container_name,
    lab_class,
    open_lab,
)
from .engine import ContainerUnavailable, connect
from .image import build_image, image_tag

__all__ = ["ContainerServer", "ContainerUnavailable", "ContainerVaultLab", "backend_choice",
           "build_image", "cleanup_orphans", "connect", "container_name", "image_tag", "lab_class", "open_lab"]

"""The lab server image: its tag, its build context and its build.

The image holds the same server binary the process backend runs (copied from this
machine, so both backends run one version), SoftHSM and pkcs11-tool, and the PKCS#11
KMS plugin when ``environments/kms-pkcs11/`` has built one. Its definition is
``environments/container/Containerfile``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import LabError
from ..server.config import environments_dir

IMAGE_REPO = "localhost/labkit-server"
DEFAULT_BASE = "docker.io/library/debian:bookworm-slim"
LOCAL_BASE = "localhost/debian:bookworm-lab"  # made by scripts/podman-setup.sh with debootstrap


def cache_dir() -> Path:
    """``$LABKIT_CACHE`` or ``~/.cache/labkit``: build folders that outlive a clone."""
    env = os.environ.get("LABKIT_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "labkit"
    base.mkdir(parents=True, exist_ok=True)
    return base


def image_tag(binary) -> str:
    """``localhost/labkit-server:openbao-2.7.2``: one image per server flavour and version."""
    return f"{IMAGE_REPO}:{binary.flavour}-{binary.version_string}"


def kms_plugin_files() -> list[Path]:
    """Built KMS plugin executables the other room leaves in environments/kms-pkcs11/."""
    folder = environments_dir() / "kms-pkcs11"
    found = []
    for sub in ("bin", "build", "."):
        d = folder / sub
        if d.is_dir():
            found += [p for p in sorted(d.iterdir()) if p.is_file() and os.access(p, os.X_OK)
                      and p.name.startswith(("openbao-plugin-kms", "kms-", "pkcs11"))]
    return found


def prepare_context(binary, folder: Path | None = None) -> Path:
    """Fill a build folder with the Containerfile, the server binary and any KMS plugin."""
    src = environments_dir() / "container" / "Containerfile"
    if not src.is_file():
        raise LabError(f"{src} is missing.", "Restore environments/container/ from the lab's git checkout.")
    folder = Path(folder) if folder else cache_dir() / "image-context"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, folder / "Containerfile")
    target = folder / "server"
    if not target.exists() or target.stat().st_size != binary.path.stat().st_size \
            or target.stat().st_mtime < binary.path.stat().st_mtime:
        shutil.copy2(binary.path, target)
    plugins = folder / "plugins"
    shutil.rmtree(plugins, ignore_errors=True)
    plugins.mkdir()
    (plugins / "README").write_text("KMS plugins copied from environments/kms-pkcs11/ when built.\n")
    for plugin in kms_plugin_files():
        shutil.copy2(plugin, plugins / plugin.name)
    return folder


def fingerprint(folder: Path) -> str:
    """What the image is made of (Containerfile, binary, plugins), as a short hash: an
    image whose ``labkit.fingerprint`` label matches needs no rebuild."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)} {stat.st_size}\n".encode())
        if path.name != "server":  # 180 MB: its size and version tag stand for it
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_exists(client, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_image(client, binary, base: str | None = None, tag: str | None = None) -> str:
    """Build the lab image through the Docker API (Docker Engine or Podman).

    ``base`` defaults to ``$LABKIT_BASE_IMAGE``, else the local debootstrap image if the
    engine has it, else Debian's bookworm-slim from Docker Hub.
    """
    tag = tag or image_tag(binary)
    if base is None:
        base = os.environ.get("LABKIT_BASE_IMAGE") or (LOCAL_BASE if image_exists(client, LOCAL_BASE) else DEFAULT_BASE)
    context = prepare_context(binary)
    try:
        client.images.build(path=str(context), dockerfile="Containerfile", tag=tag, rm=True,
                            labels={"labkit.fingerprint": fingerprint(context)},
                            buildargs={"BASE": base, "SERVER_NAME": binary.cli_name}, network_mode="host")
    except Exception as exc:
        raise LabError(f"Building {tag} from {base} failed: {exc}",
                       "Read the build error above; without network access for apt, build the base image "
                       "locally with `scripts/podman-setup.sh`.") from None
    return tag

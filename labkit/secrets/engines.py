"""Mounting secrets engines: ``POST /v1/sys/mounts/:path``."""

from __future__ import annotations

import hvac

from ..errors import LabError


def mounted_engines(client: hvac.Client) -> dict[str, str]:
    """``GET /v1/sys/mounts``: mount path (with trailing slash) -> engine type."""
    data = client.sys.list_mounted_secrets_engines()
    data = data.get("data", data)
    return {path: info["type"] for path, info in data.items() if isinstance(info, dict) and "type" in info}


def check_mount_path(path: str) -> str:
    clean = path.strip().strip("/")
    if not clean or any(part in ("", ".", "..") for part in clean.split("/")):
        raise LabError(f"{path!r} is not a usable mount path.", "Use a short name such as 'kv-lab' or 'pki_int'.")
    if clean.split("/")[0] in ("sys", "auth", "identity", "cubbyhole"):
        raise LabError(f"{clean!r} is reserved by the server.", "Choose another mount path, e.g. 'lab-" + clean + "'.")
    return clean


def enable_engine(client: hvac.Client, engine: str, path: str, *, fresh: bool = True,
                  options: dict | None = None, config: dict | None = None) -> str:
    """Mount ``engine`` at ``path`` (``POST /v1/sys/mounts/:path``).

    ``fresh=True`` disables a mount already there first, so re-running a lesson starts
    from an empty engine; an engine of another type at that path is never touched.
    """
    path = check_mount_path(path)
    existing = mounted_engines(client).get(path + "/")
    if existing is not None and existing != engine:
        raise LabError(f"Mount {path}/ already holds a {existing!r} engine, not {engine!r}.",
                       f"Pass another mount path for the {engine} engine.")
    if existing is not None and not fresh:
        return path
    if existing is not None:
        client.sys.disable_secrets_engine(path=path)
    client.sys.enable_secrets_engine(engine, path=path, options=options, config=config)
    return path

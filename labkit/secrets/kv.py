"""KV version 2: versions, metadata, check-and-set, soft delete and destroy.

A KV v2 mount stores every write as a new version. ``data/`` paths hold values,
``metadata/`` paths hold the version history; deleting a version is reversible
(``undelete``), destroying it removes the data for good.
"""

from __future__ import annotations

import hvac
from hvac.exceptions import InvalidPath, InvalidRequest

from ..errors import LabError
from .display import Table
from .engines import enable_engine


class CASMismatch(LabError):
    """A check-and-set write named a version that is not the current one."""

    def __init__(self, path: str, cas: int, current: int):
        self.cas = cas
        self.current = current
        super().__init__(
            f"Check-and-set refused the write to {path!r}: you said the current version is {cas}, "
            f"the server has {current}.",
            f"Read the secret again and write with cas={current} (cas=0 only creates a secret that does not exist).",
        )


class KVv2:
    """A KV v2 engine at ``mount``; paths are relative to it."""

    def __init__(self, client: hvac.Client, mount: str = "kv-lab"):
        self.client = client
        self.mount = mount.strip("/")
        self._api = client.secrets.kv.v2

    def __repr__(self) -> str:
        return f"KVv2(mount={self.mount!r})"

    def enable(self, *, max_versions: int = 10, cas_required: bool = False, fresh: bool = True) -> "KVv2":
        """``POST /v1/sys/mounts/:mount`` (kv, version 2), then ``POST /v1/:mount/config``."""
        enable_engine(self.client, "kv", self.mount, fresh=fresh, options={"version": "2"})
        self._api.configure(max_versions=max_versions, cas_required=cas_required, mount_point=self.mount)
        return self

    def config(self) -> dict:
        """``GET /v1/:mount/config``."""
        return self._api.read_configuration(mount_point=self.mount)["data"]

    def put(self, path: str, data: dict, cas: int | None = None) -> int:
        """``POST /v1/:mount/data/:path``; returns the new version number.

        With ``cas`` the write only happens if ``cas`` is the current version (0: only
        if the secret does not exist yet)."""
        if not isinstance(data, dict) or not data:
            raise LabError("A KV secret is a non-empty dict of keys and values.", "Pass e.g. {'password': 'xyz'}.")
        try:
            resp = self._api.create_or_update_secret(path=path, secret=data, cas=cas, mount_point=self.mount)
        except InvalidRequest as exc:
            if "check-and-set" in str(exc):
                raise CASMismatch(path, cas if cas is not None else -1, self.current_version(path)) from None
            raise LabError(f"The write to {self.mount}/{path} was refused: {exc}",
                           "Check the path and the data; see the server log with lab.process.tail().") from None
        return resp["data"]["version"]

    def get(self, path: str, version: int | None = None) -> dict | None:
        """``GET /v1/:mount/data/:path?version=N``: the data, or None when that version
        is deleted or destroyed (its metadata still exists)."""
        try:
            resp = self._api.read_secret_version(path=path, version=version, mount_point=self.mount,
                                                 raise_on_deleted_version=False)
        except InvalidPath:
            return None
        return resp["data"]["data"]

    def metadata(self, path: str) -> dict:
        """``GET /v1/:mount/metadata/:path``."""
        try:
            return self._api.read_secret_metadata(path=path, mount_point=self.mount)["data"]
        except InvalidPath:
            raise LabError(f"No secret at {self.mount}/{path}.", "Write it first with put().") from None

    def current_version(self, path: str) -> int:
        try:
            return self.metadata(path)["current_version"]
        except LabError:
            return 0

    def version_state(self, path: str, version: int) -> str:
        """"live", "deleted" (soft, can be undeleted) or "destroyed"."""
        info = self.metadata(path)["versions"].get(str(version))
        if info is None:
            raise LabError(f"{self.mount}/{path} has no version {version}.",
                           f"Versions there: {sorted(int(v) for v in self.metadata(path)['versions'])}.")
        if info["destroyed"]:
            return "destroyed"
        return "deleted" if info["deletion_time"] else "live"

    def versions(self, path: str) -> Table:
        """The version history of ``path`` as a table (from its metadata)."""
        meta = self.metadata(path)
        rows = []
        for number in sorted(meta["versions"], key=int):
            rows.append([number, meta["versions"][number]["created_time"][:19], self.version_state(path, int(number)),
                         "current" if int(number) == meta["current_version"] else ""])
        return Table(["version", "created", "state", ""], rows, title=f"{self.mount}/{path}")

    def soft_delete(self, path: str, versions: list[int] | None = None) -> None:
        """``DELETE /v1/:mount/data/:path`` (latest) or ``POST /v1/:mount/delete/:path``."""
        if versions:
            self._api.delete_secret_versions(path=path, versions=versions, mount_point=self.mount)
        else:
            self._api.delete_latest_version_of_secret(path=path, mount_point=self.mount)

    def undelete(self, path: str, versions: list[int]) -> None:
        """``POST /v1/:mount/undelete/:path``."""
        self._api.undelete_secret_versions(path=path, versions=versions, mount_point=self.mount)

    def destroy(self, path: str, versions: list[int]) -> None:
        """``PUT /v1/:mount/destroy/:path``: the data of those versions is gone for good."""
        self._api.destroy_secret_versions(path=path, versions=versions, mount_point=self.mount)

    def delete_all(self, path: str) -> None:
        """``DELETE /v1/:mount/metadata/:path``: every version and the history."""
        self._api.delete_metadata_and_all_versions(path=path, mount_point=self.mount)

    def list(self, folder: str = "") -> list[str]:
        """``LIST /v1/:mount/metadata/:folder``."""
        try:
            return self._api.list_secrets(path=folder, mount_point=self.mount)["data"]["keys"]
        except InvalidPath:
            return []

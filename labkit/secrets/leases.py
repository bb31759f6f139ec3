"""Leases: every dynamic secret comes with one. List, look up, renew, revoke, and
revoke a whole prefix (``sys/leases/*``, root or sudo capability needed)."""

from __future__ import annotations

import datetime as dt

import hvac
from hvac.exceptions import InvalidPath, InvalidRequest

from ..errors import LabError
from .display import Table


class Leases:
    def __init__(self, client: hvac.Client):
        self.client = client

    def list(self, prefix: str) -> list[str]:
        """Every lease id under ``prefix`` (``LIST /v1/sys/leases/lookup/:prefix``, walked)."""
        prefix = prefix.strip("/") + "/"
        try:
            keys = self.client.adapter.list(f"/v1/sys/leases/lookup/{prefix}")["data"]["keys"]
        except (InvalidPath, TypeError):
            return []
        found = []
        for key in keys:
            if key.endswith("/"):
                found += self.list(prefix + key)
            else:
                found.append(prefix + key)
        return sorted(found)

    def lookup(self, lease_id: str) -> dict:
        """``PUT /v1/sys/leases/lookup``: ttl, expire_time, renewable, issue_time."""
        try:
            return self.client.sys.read_lease(lease_id=lease_id)["data"]
        except InvalidRequest:
            raise LabError(f"No lease {lease_id!r}: it was revoked or has expired.",
                           "List the live leases with leases.list(prefix).") from None

    def renew(self, lease_id: str, increment: int | None = None) -> int:
        """``PUT /v1/sys/leases/renew``; returns the new lease duration in seconds
        (never beyond the role's max_ttl)."""
        try:
            resp = self.client.sys.renew_lease(lease_id=lease_id, increment=increment)
        except InvalidRequest as exc:
            raise LabError(f"Lease {lease_id!r} cannot be renewed: {exc}",
                           "It is revoked, expired or not renewable: read new credentials.") from None
        return resp["lease_duration"]

    def revoke(self, lease_id: str) -> None:
        """``PUT /v1/sys/leases/revoke``: the engine deletes the secret now."""
        self.client.sys.revoke_lease(lease_id=lease_id)

    def revoke_prefix(self, prefix: str) -> None:
        """``PUT /v1/sys/leases/revoke-prefix/:prefix``: every lease under it."""
        self.client.sys.revoke_prefix(prefix=prefix.strip("/"))

    def table(self, prefix: str) -> Table:
        now = dt.datetime.now(dt.timezone.utc)
        rows = []
        for lease_id in self.list(prefix):
            info = self.lookup(lease_id)
            rows.append([lease_id, f"{info['ttl']} s", str(info["renewable"]).lower(),
                         info["issue_time"][:19], (info.get("expire_time") or "")[:19]])
        return Table(["lease id", "ttl", "renewable", "issued", "expires"], rows,
                     title=f"Leases under {prefix.strip('/')}/ at {now:%H:%M:%S}Z: {len(rows)}")

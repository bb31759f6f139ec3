"""Audit lessons that need a few steps: what happens when no device can write, log
rotation with SIGHUP, and the paths that are never audited."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError
from ..ui.records import Fields
from .devices import declared
from .log import paths, read_entries

# From the OpenBao and Vault docs: these paths bypass the audit system.
NOT_AUDITED = ("sys/init", "sys/seal-status", "sys/seal", "sys/unseal", "sys/leader", "sys/health",
               "sys/step-down", "sys/rekey/*", "sys/storage/raft/bootstrap", "sys/storage/raft/join")


@dataclass
class Probe:
    """One authenticated request and whether the server served it."""

    status: int
    errors: str

    @property
    def served(self) -> bool:
        return self.status < 400

    def __repr__(self) -> str:
        return f"Probe({self.status}, {'served' if self.served else self.errors})"


def probe(lab) -> Probe:
    """``GET /v1/auth/token/lookup-self`` with the root token: audited, harmless."""
    resp = lab.request("GET", "auth/token/lookup-self",
                       headers={"X-Vault-Token": lab.credentials.root_token.reveal()})
    errors = "; ".join(resp.json().get("errors") or []) if resp.status_code >= 400 and resp.content else ""
    return Probe(resp.status_code, errors)


def wait_served(lab, timeout: float = 10) -> Probe:
    """Probe until the server serves requests again (after an audit outage ends)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe(lab)
        if result.served or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def unaudited_requests(lab, audit_file) -> Fields:
    """Call a few unauthenticated endpoints and one audited one; report which of
    them the file device recorded."""
    before = len(read_entries(audit_file))
    lab.request("GET", "sys/health")
    lab.request("GET", "sys/seal-status")
    lab.request("GET", "sys/leader")
    probe(lab)
    time.sleep(0.1)
    seen = paths(read_entries(audit_file)[before:])
    return Fields({p: ("in the audit log" if p in seen else "not audited") for p in
                   ("sys/health", "sys/seal-status", "sys/leader", "auth/token/lookup-self")},
                  title="Which requests reached the audit log")


@dataclass
class Rotation:
    old_path: Path
    old_entries: int
    new_path: Path
    new_entries: int

    def view(self) -> Fields:
        return Fields({"rotated file": self.old_path.name, "entries in it": self.old_entries,
                       "new file": self.new_path.name, "entries written since SIGHUP": self.new_entries},
                      title="Audit log rotation")

    def _repr_html_(self):
        return self.view()._repr_html_()

    def __repr__(self):
        return repr(self.view())


def rotate(lab, path: str = "file", suffix: str = ".1", timeout: float = 5) -> Rotation:
    """What logrotate does: rename the file, send SIGHUP, and the device reopens a
    fresh file at the configured path (the renamed one keeps the old entries)."""
    device = declared(lab).get(path.strip("/") + "/")
    if device is None or device.type != "file":
        raise LabError(f"No file audit device {path!r} is declared for this lab.",
                       "Enable one with enable(lab, file_device(...)) first.")
    current = Path(device.options["file_path"])
    rotated = current.with_name(current.name + suffix)
    current.rename(rotated)
    lab.reload()
    deadline = time.monotonic() + timeout
    while not (current.exists() and read_entries(current)):
        if time.monotonic() > deadline:
            raise LabError(f"The server did not reopen {current} after SIGHUP.",
                           f"Read the server log {lab.log_path}.")
        probe(lab)
        time.sleep(0.05)
    return Rotation(rotated, len(read_entries(rotated)), current, len(read_entries(current)))

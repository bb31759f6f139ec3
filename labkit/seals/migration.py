"""Seal migration (Shamir -> auto-unseal -> back) and start-up outcomes for failure
lessons, on top of :class:`labkit.VaultLab`.

Migration follows the documented procedure: put the new seal in the config (and the
old one, if it was not Shamir, marked ``disabled = "true"``), restart, unseal with the
*old* keys and ``migrate=true``, then drop the disabled stanza and restart once more.
Going to an auto-unseal seal, the Shamir unseal keys become recovery keys; going back,
the recovery keys become unseal keys. The lab's credential store follows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .. import redact
from ..errors import LabError, ServerStartError

SEAL_FRAGMENT = "seal"
OLD_SEAL_FRAGMENT = "seal-old"


@dataclass(frozen=True)
class MigrationResult:
    from_type: str
    to_type: str
    keys_used: int
    seconds: float
    restart_seconds: float

    def __str__(self) -> str:
        return (f"seal migrated {self.from_type} -> {self.to_type} with {self.keys_used} key shares "
                f"in {self.seconds:.2f} s; restart through the new seal: {self.restart_seconds:.2f} s")


def _wait(lab, proc, predicate, what: str, timeout: float) -> None:
    proc.wait_until(predicate, timeout, what)


def migrate_seal(lab, new_stanza: str | None, old_stanza_disabled: str | None = None,
                 timeout: float = 60) -> MigrationResult:
    """Migrate ``lab`` (running, durable) to the seal ``new_stanza`` (``None`` means
    Shamir). ``old_stanza_disabled`` is the current seal's block rendered with
    ``disabled=True`` when the current seal is not Shamir.

    Calls ``PUT /v1/sys/unseal`` with ``{"key": ..., "migrate": true}`` per share."""
    if lab.mode != "durable":
        raise LabError("Seal migration needs a durable lab.", "Start the lab with mode='durable'.")
    if not lab.running:
        raise LabError(f"Lab {lab.name!r} is not running.", "Call lab.start() first.")
    from_type = lab.seal_status().get("type", "shamir")
    if from_type != "shamir" and not old_stanza_disabled:
        raise LabError(f"The lab is sealed by {from_type!r}; migrating away needs that seal's block "
                       "marked disabled.", "Pass old_stanza_disabled=<seal>.seal_stanza(..., disabled=True).")
    if from_type == "shamir" and new_stanza is None:
        raise LabError("The lab already uses Shamir.", "Pass the block of the seal to migrate to.")
    creds = lab.credentials
    old_keys = creds.unseal_keys if from_type == "shamir" else creds.recovery_keys
    if not old_keys:
        raise LabError(f"Lab {lab.name!r} has no stored {'unseal' if from_type == 'shamir' else 'recovery'} keys.",
                       "Restore the lab's credentials.json; migration needs the current key shares.")

    began = time.perf_counter()
    if new_stanza is None:
        lab.set_config_fragment(SEAL_FRAGMENT, old_stanza_disabled)
        lab.set_config_fragment(OLD_SEAL_FRAGMENT, None)
    else:
        lab.set_config_fragment(SEAL_FRAGMENT, new_stanza)
        lab.set_config_fragment(OLD_SEAL_FRAGMENT, old_stanza_disabled)

    proc = lab.relaunch()
    _wait(lab, proc, lambda: lab.seal_status().get("migration") is True, "waiting for seal migration", timeout)
    status = lab.seal_status()
    used = 0
    for key in old_keys:
        if not status.get("sealed"):
            break
        resp = lab.request("PUT", "sys/unseal", json={"key": key.reveal(), "migrate": True}, timeout=30)
        if resp.status_code >= 400:
            raise ServerStartError(f"Migration unseal failed: {redact.redact(resp.text)}\n"
                                   f"Last lines of {lab.log_path}:\n{proc.tail()}",
                                   "Check that the old keys belong to this server and the new seal's KMS answers.")
        status = resp.json()
        used += 1
    _wait(lab, proc, lambda: (h := lab.health()).get("initialized") and not h.get("sealed")
          and not h.get("standby"), "unsealed and active after migration", timeout)
    to_type = lab.seal_status().get("type", "shamir")
    seconds = time.perf_counter() - began

    if from_type == "shamir":
        creds.recovery_keys, creds.unseal_keys = list(creds.unseal_keys), []
    elif new_stanza is None:
        creds.unseal_keys, creds.recovery_keys = list(creds.recovery_keys), []
    creds.save(lab.workspace)
    lab.set_config_fragment(OLD_SEAL_FRAGMENT, None)
    if new_stanza is None:
        lab.set_config_fragment(SEAL_FRAGMENT, None)
    # A clean restart without the disabled stanza: also rewrites the lab's state file.
    restart_seconds = lab.restart()
    return MigrationResult(from_type, to_type, used, seconds, restart_seconds)


@dataclass(frozen=True)
class StartOutcome:
    """What happened when the lab was (re)started: unsealed, or the error and log."""

    ok: bool
    seconds: float
    error: str = ""

    @property
    def cause(self) -> str:
        """The log line that names why the server did not come up, with the API error
        lines that follow it (empty when it did come up)."""
        lines = [ln.strip() for ln in self.error.splitlines() if ln.strip()]
        for marker in ("Error configuring seal", "failed to unseal", "* ", "error="):
            hits = [i for i, ln in enumerate(lines) if marker in ln]
            if hits:
                i = hits[-1]
                details = [ln.lstrip("| ") for ln in lines[i + 1:i + 8]
                           if ln.lstrip("| ").startswith(("* ", "Code:"))]
                return " ".join([lines[i], *details])
        return lines[0] if lines else ""

    def __repr__(self) -> str:
        return f"StartOutcome(ok={self.ok}, seconds={self.seconds:.2f}{'' if self.ok else ', cause=' + repr(self.cause)})"

    def __str__(self) -> str:
        if self.ok:
            return f"started and unsealed in {self.seconds:.2f} s"
        return f"did not come up ({self.seconds:.1f} s):\n{self.error}"

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.ok else "#cf222e"
        head = "unsealed" if self.ok else "failed, as the lesson expects" if self.error else "failed"
        body = "" if self.ok else f"<pre style='white-space:pre-wrap'>{html.escape(self.error)}</pre>"
        return f"<div><b style='color:{colour}'>{html.escape(head)}</b> ({self.seconds:.2f} s){body}</div>"


def try_start(lab, timeout: float = 10, restart: bool = False) -> StartOutcome:
    """Start (or restart) ``lab`` and report the outcome instead of raising: the
    failure lessons show the error the server gave, quoted from its log."""
    saved = lab.timeout
    lab.timeout = timeout
    began = time.perf_counter()
    try:
        if restart and lab.running:
            lab.restart()
        else:
            lab.start()
        return StartOutcome(True, time.perf_counter() - began)
    except LabError as exc:
        if lab.process is not None and lab.process.alive():
            lab.stop()
        return StartOutcome(False, time.perf_counter() - began, redact.redact(str(exc)))
    finally:
        lab.timeout = saved


def reset_labs(*names: str, home=None) -> list[str]:
    """Stop and delete the labs ``names`` (data, keys, logs) and the KMIP server or
    unsealer they run, so a notebook starts from empty labs. Returns the names removed."""
    from ..lab import stop_lab
    from ..workspace import Workspace
    from .kmip import stop_kmip_server

    removed = []
    for name in names:
        workspace = Workspace(name, home)
        if not workspace.exists():
            continue
        stop_kmip_server(workspace)
        stop_lab(name, home=home, purge=True)
        removed.append(name)
    return removed

"""Evidence an HSM vendor shows a reviewer: start attempts with the HSM unavailable,
and the checklist notebook 04 ends with."""

from __future__ import annotations

import re
import stat
import time
from dataclasses import dataclass, field

from .. import redact
from ..checks import Checklist
from ..errors import LabError
from .kms_plugin import file_sha256

SEAL_ERROR = re.compile(r"^Error configuring seal.*$|^.*pkcs11 seal configuration failed.*$", re.M)


@dataclass(frozen=True)
class StartAttempt:
    """What happened when the lab server was started: up and unsealed, or refused."""

    started: bool
    sealed: bool | None
    seconds: float
    error: str = ""

    def __str__(self) -> str:
        if self.started:
            return f"started in {self.seconds:.2f} s, {'sealed' if self.sealed else 'unsealed'}"
        return f"refused to start after {self.seconds:.2f} s: {self.error}"


def try_start(lab) -> StartAttempt:
    """``lab.start()``, reporting a refusal instead of raising: with the HSM unavailable
    OpenBao stops at "Error configuring seal" before it serves anything, so the
    storage is never touched."""
    began = time.perf_counter()
    try:
        lab.start()
    except LabError as exc:
        text = redact.redact(str(exc))
        found = SEAL_ERROR.findall(text)
        lines = [line for line in found if line.startswith("Error configuring seal")] or found
        message = lines[-1].strip() if lines else text.splitlines()[0]
        lab.stop()
        return StartAttempt(False, None, time.perf_counter() - began, message)
    status = lab.seal_status()
    return StartAttempt(True, bool(status.get("sealed")), time.perf_counter() - began)


@dataclass
class HSMEvidence:
    """What the notebook observed, filled in as it goes (the checklist reads it)."""

    restart_seconds: list[float] = field(default_factory=list)
    secret_before: dict | None = None
    secret_after_restart: dict | None = None
    wrong_pin: StartAttempt | None = None
    token_removed: StartAttempt | None = None
    back: StartAttempt | None = None
    secret_after_recovery: dict | None = None


def reviewer_checklist(lab, token, key_label: str, plan, evidence: HSMEvidence) -> Checklist:
    """The points an HSM vendor must prove for review, each checked on the running lab."""
    checks = Checklist("HSM (PKCS#11) integration: reviewer checklist")
    attrs = token.attributes(key_label)
    checks.expect(attrs["sensitive"] and attrs["extractable"] is False,
                  f"the seal key {key_label!r} is sensitive and not extractable on the token",
                  "Create the key with token.aes_key(label) (extractable=False is the default).", attrs)
    status = lab.seal_status()
    checks.expect(status.get("type") == "pkcs11" and status.get("recovery_seal"),
                  "the server is sealed by the pkcs11 seal and issued recovery keys",
                  "Write the seal fragment with configure_pkcs11_seal() before the first start.", status.get("type"))
    creds = lab.credentials
    checks.expect(creds is not None and not creds.unseal_keys and len(creds.recovery_keys) >= 1,
                  "init returned recovery keys only (no unseal key exists to be typed)",
                  "Initialise the server behind the pkcs11 seal, not with Shamir.")
    checks.expect(bool(evidence.restart_seconds) and not status.get("sealed"),
                  "after a restart the server unsealed through the HSM with no key typed",
                  "Restart with lab.restart() and check lab.seal_status().")
    checks.expect(evidence.secret_before is not None and evidence.secret_before == evidence.secret_after_restart,
                  "a secret written before the restart reads back after it",
                  "Write the secret before the restart and read it after.")
    wrong = evidence.wrong_pin
    checks.expect(wrong is not None and not wrong.started and "PIN_INCORRECT" in wrong.error,
                  "with a wrong PIN the server refuses to start and the log names CKR_PIN_INCORRECT",
                  "Start once with configure_pkcs11_seal(..., pin='wrong') and record try_start(lab).",
                  wrong.error if wrong else "")
    gone = evidence.token_removed
    checks.expect(gone is not None and not gone.started and "token" in gone.error.lower(),
                  "with the token removed the server refuses to start and says the token is missing",
                  "Unplug the token with token.unplug() and record try_start(lab).", gone.error if gone else "")
    back = evidence.back
    checks.expect(back is not None and back.started and back.sealed is False,
                  "with the HSM back the server starts unsealed on its own",
                  "Plug the token back (token.plug_back()) and restore the right PIN, then start.")
    checks.expect(evidence.secret_after_recovery == evidence.secret_before and evidence.secret_before is not None,
                  "nothing was lost while the HSM was unavailable",
                  "Read the secret again after the HSM is back.")
    if plan.plugin is not None:
        checks.expect(file_sha256(plan.plugin.path) == plan.plugin.sha256 and plan.plugin.sha256 in
                      plan.fragment.read_text(),
                      "the KMS plugin's sha256 is pinned in the config and matches the file",
                      "Re-run configure_pkcs11_seal() after rebuilding the plugin.")
    mode = stat.S_IMODE(plan.fragment.stat().st_mode)
    checks.expect(mode & 0o077 == 0, "the seal config holding the PIN is private to its owner (0600)",
                  f"chmod 600 {plan.fragment}", oct(mode))
    log = lab.log_path.read_text(errors="replace") if lab.log_path.exists() else ""
    checks.expect(token.pin.reveal() not in log, "the HSM PIN never appears in the server log",
                  "Mark the pin as a sensitive field of the plugin (it is) and never log the seal config.")
    return checks

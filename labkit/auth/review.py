"""What a reviewer looks for in an auth method (or a vendor's auth plugin), as a
checklist the notebook runs against a real mount and a real login:

* the login path is unauthenticated (``PathsSpecial.Unauthenticated``);
* tokens it issues can be renewed (the plugin handles renew);
* it sets an alias, so identity links the login to an entity;
* it fills alias or token metadata a policy template or audit reader can use;
* no secret it handled appears in the server log or the audit log.
"""

from __future__ import annotations

from pathlib import Path

from ..checks import Checklist
from ..redact import registered
from .methods import _call, _reveal, mount_accessor


def login_path_unauthenticated(lab, mount: str, login_path: str = "login") -> tuple[bool, str]:
    """POST the login path with no token and an empty body: an unauthenticated path
    answers with its own complaint (400), an authenticated one with 403."""
    resp = lab.request("POST", f"auth/{mount}/{login_path}", json={})
    return resp.status_code != 403, f"{resp.status_code} {resp.text.strip()[:120]}"


def review_auth_method(lab, mount: str, login, secrets=(), logs=(), login_path: str = "login") -> Checklist:
    """Run the reviewer's checklist on ``auth/MOUNT/`` with a fresh :class:`LoginResult`.

    ``secrets`` are the credentials used (passwords, secret_ids, JWTs); ``logs`` are
    files to scan (the server log is always scanned). Returns the Checklist; call
    ``.done()`` to show it and fail the cell if anything is wrong."""
    checklist = Checklist(f"Reviewer checklist for auth/{mount}/")
    ok, seen = login_path_unauthenticated(lab, mount, login_path)
    checklist.expect(ok, f"auth/{mount}/{login_path} answers without a token",
                     "List the login path in the backend's PathsSpecial.Unauthenticated.", seen)
    renewed = lab.request("POST", "auth/token/renew-self", headers={"X-Vault-Token": login.token.reveal()}, json={})
    checklist.expect(renewed.ok and login.renewable, "a token from this method can be renewed",
                     "Set Renewable and implement the backend's Renew callback (re-check the user).",
                     f"renew-self answered {renewed.status_code}")
    accessor = mount_accessor(lab, mount)
    alias = None
    if login.entity_id:
        ent = _call(lab, "GET", f"identity/entity/id/{login.entity_id}")["data"]
        alias = next((a for a in ent.get("aliases") or [] if a["mount_accessor"] == accessor), None)
    checklist.expect(alias is not None and bool(alias.get("name")),
                     "the login set an identity alias on this mount (the token has an entity)",
                     "Fill logical.Auth.Alias{Name: <stable user id>} in the login response.",
                     f"entity_id={login.entity_id or 'none'}")
    checklist.expect(bool(login.metadata) or bool(alias and alias.get("metadata")),
                     "the login carries metadata (token or alias) that policies and audit can use",
                     "Fill logical.Auth.Metadata / Alias.Metadata with non-secret attributes (role, username).")
    values = {_reveal(s) for s in secrets} | {login.token.reveal()}
    files = [lab.log_path, *[Path(p) for p in logs]]
    leaks = []
    for path in files:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        leaks += [f"{registered().get(v, 'secret')} in {Path(path).name}" for v in values if v and v in text]
    checklist.expect(not leaks, f"no credential of this login appears in {len(files)} log file(s)",
                     "Never log request data; mark secret fields so the audit device HMACs them.",
                     "; ".join(leaks))
    return checklist

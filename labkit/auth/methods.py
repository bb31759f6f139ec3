"""Auth methods for notebook 01: identity in, token with policies out.

Helpers for userpass, AppRole (with response wrapping), JWT against the lab
identity provider and TLS certificates from the lab CA. Every credential they
create or receive (passwords, secret_ids, wrapping and client tokens) is a masked
:class:`~labkit.redact.Secret`; every failed login becomes a :class:`LabError` that
says what was wrong and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import requests

from ..errors import LabError
from ..redact import Secret, redact, register
from ..ui.records import Fields

# Server error text -> what the learner should do about it.
_LOGIN_FIXES = (
    ("invalid username or password", "Check the username and password (userpass logins are case-sensitive)."),
    ("invalid role or secret id", "The secret_id is wrong, expired (secret_id_ttl) or used up (secret_id_num_uses): "
                                  "generate a new one with approle_secret_id(...)."),
    ("invalid secret id", "The secret_id is wrong, expired (secret_id_ttl) or used up (secret_id_num_uses): "
                          "generate a new one with approle_secret_id(...)."),
    ("invalid role id", "Read the role_id again with approle_role_id(lab, role)."),
    ("aud claim does not match", "Issue the JWT with an audience listed in the role's bound_audiences, "
                                 "or add that audience to the role."),
    ("audience claim", "Issue the JWT with an audience listed in the role's bound_audiences."),
    ("token is expired", "The JWT has expired: issue a new one (ttl= sets its lifetime)."),
    ("claim \"", "A bound claim does not match: issue the JWT with the claim the role's bound_claims require."),
    ("bound claims", "A bound claim does not match: issue the JWT with the claim the role's bound_claims require."),
    ("failed to verify id token signature", "The JWT was not signed by a key in the configured JWKS: "
                                           "issue it from the lab identity provider this mount trusts."),
    ("role", "Check the role name: list roles with `bao list auth/<mount>/role`."),
    ("invalid certificate", "Present a client certificate issued by a CA the cert role trusts "
                            "(lab.ca.issue(..., client=True))."),
    ("no chain matching", "Present a client certificate issued by a CA the cert role trusts."),
    ("permission denied", "This login path needs no token: call it without X-Vault-Token."),
)


def _errors(resp: requests.Response) -> str:
    try:
        text = "; ".join(resp.json().get("errors") or []) or resp.text
    except ValueError:
        text = resp.text
    # Go's multierror wraps one message as "1 error occurred:\n\t* message\n\n".
    text = re.sub(r"\d+ errors? occurred:\s*\*\s*", "", text)
    return " ".join(text.split())


def _fix_for(message: str, default: str) -> str:
    lower = message.lower()
    for needle, fix in _LOGIN_FIXES:
        if needle in lower:
            return fix
    return default


def _token(lab) -> str:
    return lab.credentials.root_token.reveal()


def _call(lab, method: str, path: str, token: str | None = None, what: str = "", fix: str = "", **kwargs) -> dict:
    """One API call with the root token (or ``token``); a clear error on failure."""
    headers = kwargs.pop("headers", {})
    headers["X-Vault-Token"] = token if token is not None else _token(lab)
    resp = lab.request(method, path, headers=headers, **kwargs)
    if resp.status_code >= 400:
        message = redact(_errors(resp))
        raise LabError(f"{what or f'{method} /v1/{path}'} failed ({resp.status_code}): {message}",
                       fix or _fix_for(message, "Read the server's message above."))
    return resp.json() if resp.content else {}


def _reveal(value) -> str:
    return value.reveal() if hasattr(value, "reveal") else str(value)


# Mounts and policies ----------------------------------------------------------

def enable_auth(lab, method_type: str, path: str | None = None, description: str = "") -> str:
    """``POST /v1/sys/auth/:path`` unless already enabled; returns the mount accessor."""
    path = (path or method_type).strip("/")
    mounts = _call(lab, "GET", "sys/auth")
    mounts = mounts.get("data", mounts)
    if f"{path}/" in mounts:
        if mounts[f"{path}/"]["type"] != method_type:
            raise LabError(f"auth/{path}/ is already a {mounts[f'{path}/']['type']} mount.",
                           f"Mount {method_type} at another path, e.g. path='{method_type}2'.")
        return mounts[f"{path}/"]["accessor"]
    if method_type not in lab.capabilities.builtin_auth:
        raise LabError(f"{lab.binary.product} has no built-in auth method {method_type!r}.",
                       f"Use one of {', '.join(lab.capabilities.builtin_auth)}, or register a plugin (notebook 07).")
    _call(lab, "POST", f"sys/auth/{path}", json={"type": method_type, "description": description})
    return mount_accessor(lab, path)


def mount_accessor(lab, path: str) -> str:
    """The accessor of ``auth/PATH/`` (``GET /v1/sys/auth``): aliases name their mount by it."""
    mounts = _call(lab, "GET", "sys/auth")
    mounts = mounts.get("data", mounts)
    entry = mounts.get(f"{path.strip('/')}/")
    if entry is None:
        raise LabError(f"No auth method is mounted at auth/{path.strip('/')}/.",
                       f"Mounted: {', '.join(sorted(mounts)) or 'none'}. Enable it with enable_auth(lab, TYPE, PATH).")
    return entry["accessor"]


_KV2_SUBPATHS = ("data", "metadata", "delete", "undelete", "destroy", "config", "subkeys")


def kv2_mounts(lab) -> list[str]:
    mounts = _call(lab, "GET", "sys/mounts")
    mounts = mounts.get("data", mounts)
    return [p.strip("/") for p, m in mounts.items()
            if m.get("type") == "kv" and (m.get("options") or {}).get("version") == "2"]


def policy_hints(lab, hcl: str) -> list[str]:
    """Paths a policy names that will never match, the usual one being a KV v2 path
    written without ``data/`` (``secret/app/*`` instead of ``secret/data/app/*``)."""
    hints = []
    mounts = kv2_mounts(lab)
    for path in re.findall(r'path\s+"([^"]+)"', hcl):
        parts = path.split("/")
        if parts[0] in mounts and (len(parts) < 2 or parts[1] not in _KV2_SUBPATHS + ("*", "+", "")):
            hints.append(f"{path!r} is in the KV v2 engine at {parts[0]}/, whose API paths are "
                         f"{parts[0]}/data/{'/'.join(parts[1:])} (values) and {parts[0]}/metadata/... (versions).")
    return hints


def write_policy(lab, name: str, hcl: str) -> list[str]:
    """``PUT /v1/sys/policies/acl/:name``; returns hints about paths that cannot match."""
    _call(lab, "PUT", f"sys/policies/acl/{name}", json={"policy": hcl}, what=f"Writing policy {name!r}",
          fix="Fix the HCL: each rule is path \"PATH\" { capabilities = [\"read\", ...] }.")
    return policy_hints(lab, hcl)


# Login results ----------------------------------------------------------------

@dataclass
class LoginResult:
    """What a login returned, with the client token masked."""

    mount: str
    token: Secret
    accessor: str
    policies: list[str]
    ttl: int
    renewable: bool
    entity_id: str
    metadata: dict = field(default_factory=dict)

    @classmethod
    def from_auth(cls, mount: str, auth: dict) -> "LoginResult":
        return cls(mount=mount, token=Secret(auth["client_token"], "client-token"), accessor=auth.get("accessor", ""),
                   policies=list(auth.get("policies") or []), ttl=int(auth.get("lease_duration") or 0),
                   renewable=bool(auth.get("renewable")), entity_id=auth.get("entity_id", ""),
                   metadata=dict(auth.get("metadata") or {}))

    def view(self) -> Fields:
        return Fields({"mount": self.mount, "client token": "**** (masked)", "policies": self.policies,
                       "ttl (s)": self.ttl, "renewable": self.renewable, "entity_id": self.entity_id,
                       "metadata": self.metadata}, title=f"Login through auth/{self.mount}/")

    def _repr_html_(self) -> str:
        return self.view()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.view())

    def client(self, lab):
        """An hvac client holding this login's token."""
        return lab.new_client(self.token.reveal())


def _login(lab, mount: str, path: str, body: dict, what: str, cert=None) -> LoginResult:
    url_path = f"auth/{mount}/{path}"
    if cert is not None:
        resp = requests.post(f"{lab.address}/v1/{url_path}", json=body, cert=cert, verify=lab._verify(), timeout=10)
    else:
        resp = lab.request("POST", url_path, json=body)
    if resp.status_code >= 400:
        message = redact(_errors(resp))
        raise LabError(f"{what} failed ({resp.status_code}): {message}",
                       _fix_for(message, f"Read the server's message; `bao path-help auth/{mount}/{path}` "
                                         "lists what the login expects."))
    return LoginResult.from_auth(mount, resp.json()["auth"])


# Tokens -----------------------------------------------------------------------

def token_lookup(lab, token) -> Fields:
    """``POST /v1/auth/token/lookup`` shown safely (the token itself masked)."""
    data = _call(lab, "POST", "auth/token/lookup", json={"token": _reveal(token)}, what="Token lookup",
                 fix="The token is revoked or expired: log in again.")["data"]
    keep = ("display_name", "policies", "ttl", "creation_ttl", "explicit_max_ttl", "renewable", "entity_id",
            "meta", "path", "num_uses", "type")
    return Fields({k: data.get(k) for k in keep}, title="Token lookup")


def token_renew(lab, token, increment: str | int | None = None) -> int:
    """``POST /v1/auth/token/renew-self`` with the token itself; returns the new TTL."""
    body = {"increment": increment} if increment is not None else {}
    auth = _call(lab, "POST", "auth/token/renew-self", token=_reveal(token), json=body, what="Token renew",
                 fix="Only renewable tokens within their max TTL can be renewed: log in again.")["auth"]
    return int(auth["lease_duration"])


def token_revoke(lab, token) -> None:
    """``POST /v1/auth/token/revoke-self`` with the token itself."""
    _call(lab, "POST", "auth/token/revoke-self", token=_reveal(token), what="Token revoke")


@dataclass
class Attempt:
    """The outcome of one request made with a given token."""

    method: str
    path: str
    status: int
    errors: str
    capabilities: list[str]
    explanation: str

    @property
    def allowed(self) -> bool:
        return self.status < 400

    def view(self) -> Fields:
        return Fields({"request": f"{self.method} /v1/{self.path}", "status": self.status,
                       "server said": self.errors or "(ok)", "token's capabilities on this path": self.capabilities,
                       "why": self.explanation}, title="Request with the login token")

    def _repr_html_(self) -> str:
        return self.view()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.view())


def try_request(lab, token, method: str, path: str, **kwargs) -> Attempt:
    """Make a request with ``token`` and explain the answer: on 403, the token's own
    capabilities on that path (``POST /v1/sys/capabilities-self``) show why."""
    path = path.strip("/")
    token = _reveal(token)
    resp = lab.request(method, path, headers={"X-Vault-Token": token}, **kwargs)
    caps_resp = lab.request("POST", "sys/capabilities-self", headers={"X-Vault-Token": token}, json={"paths": [path]})
    caps = caps_resp.json().get("capabilities", []) if caps_resp.ok else []
    errors = redact(_errors(resp)) if resp.status_code >= 400 else ""
    if resp.status_code == 403:
        why = (f"403: no policy of this token grants the capability {method} needs on {path}; "
               f"its capabilities there are {caps or ['deny']}. Add a rule for this exact API path to a policy.")
        hints = [h for h in policy_hints(lab, f'path "{path}" {{}}')]
        if hints:
            why += " " + hints[0]
    elif resp.status_code < 400:
        why = f"{resp.status_code}: a policy of this token grants {caps} on {path}."
    else:
        why = f"{resp.status_code}: the request reached the engine, which refused it."
    return Attempt(method, path, resp.status_code, errors, caps, why)


# userpass ---------------------------------------------------------------------

def setup_userpass(lab, username: str, password, policies: list[str], token_ttl: str = "1h",
                   token_max_ttl: str = "4h", mount: str = "userpass") -> str:
    """Enable userpass and write one user (``POST /v1/auth/:mount/users/:name``).
    Returns the mount accessor."""
    accessor = enable_auth(lab, "userpass", mount)
    register(_reveal(password), "password")
    _call(lab, "POST", f"auth/{mount}/users/{username}",
          json={"password": _reveal(password), "token_policies": policies, "token_ttl": token_ttl,
                "token_max_ttl": token_max_ttl}, what=f"Writing user {username!r}")
    return accessor


def login_userpass(lab, username: str, password, mount: str = "userpass") -> LoginResult:
    """``POST /v1/auth/:mount/login/:username`` (no token needed)."""
    register(_reveal(password), "password")
    return _login(lab, mount, f"login/{username}", {"password": _reveal(password)}, f"Login as {username!r}")


# AppRole ----------------------------------------------------------------------

def setup_approle(lab, role: str, policies: list[str], secret_id_ttl: str = "10m", secret_id_num_uses: int = 0,
                  token_ttl: str = "20m", token_max_ttl: str = "1h", mount: str = "approle") -> str:
    """Enable AppRole and write a role (``POST /v1/auth/:mount/role/:role``)."""
    accessor = enable_auth(lab, "approle", mount)
    _call(lab, "POST", f"auth/{mount}/role/{role}",
          json={"token_policies": policies, "secret_id_ttl": secret_id_ttl, "secret_id_num_uses": secret_id_num_uses,
                "token_ttl": token_ttl, "token_max_ttl": token_max_ttl}, what=f"Writing AppRole {role!r}")
    return accessor


def approle_role_id(lab, role: str, mount: str = "approle") -> str:
    """``GET /v1/auth/:mount/role/:role/role-id`` (an identifier, like a username)."""
    return _call(lab, "GET", f"auth/{mount}/role/{role}/role-id", what=f"Reading the role_id of {role!r}",
                 fix=f"Create the role first with setup_approle(lab, {role!r}, [...]).")["data"]["role_id"]


@dataclass
class Wrapped:
    """A response-wrapped answer: only the single-use wrapping token travels."""

    token: Secret
    ttl: int
    creation_path: str
    accessor: str

    def view(self) -> Fields:
        return Fields({"wrapping token": "**** (masked, single use)", "ttl (s)": self.ttl,
                       "creation_path": self.creation_path}, title="Response-wrapped secret_id")

    def _repr_html_(self) -> str:
        return self.view()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.view())


def approle_secret_id(lab, role: str, wrap_ttl: str | None = None, mount: str = "approle"):
    """``POST /v1/auth/:mount/role/:role/secret-id``. With ``wrap_ttl`` the answer is
    response-wrapped (``X-Vault-Wrap-TTL``) and a :class:`Wrapped` comes back;
    otherwise the secret_id as a masked Secret."""
    headers = {"X-Vault-Wrap-TTL": str(wrap_ttl)} if wrap_ttl else {}
    data = _call(lab, "POST", f"auth/{mount}/role/{role}/secret-id", headers=headers,
                 what=f"Generating a secret_id for {role!r}",
                 fix=f"Create the role first with setup_approle(lab, {role!r}, [...]).")
    if wrap_ttl:
        info = data["wrap_info"]
        return Wrapped(Secret(info["token"], "wrapping-token"), int(info["ttl"]), info["creation_path"],
                       info.get("accessor", ""))
    return Secret(data["data"]["secret_id"], "secret-id")


def unwrap(lab, wrapped) -> dict:
    """``POST /v1/sys/wrapping/unwrap`` with the wrapping token; secret values come
    back as masked Secrets. A second unwrap fails: that is the point of wrapping."""
    token = wrapped.token if isinstance(wrapped, Wrapped) else wrapped
    data = _call(lab, "POST", "sys/wrapping/unwrap", token=_reveal(token), what="Unwrapping",
                 fix="The wrapping token was already used or has expired. If you did not unwrap it yourself, "
                     "someone else did: treat the secret as leaked and revoke it.")["data"]
    out = {}
    for key, value in data.items():
        out[key] = Secret(value, key.replace("_", "-")) if key in ("secret_id", "password", "token") else value
    return out


def login_approle(lab, role_id: str, secret_id, mount: str = "approle") -> LoginResult:
    """``POST /v1/auth/:mount/login`` with role_id and secret_id."""
    return _login(lab, mount, "login", {"role_id": role_id, "secret_id": _reveal(secret_id)}, "AppRole login")


# JWT / OIDC -------------------------------------------------------------------

def setup_jwt_auth(lab, idp, mount: str = "jwt", discovery: bool = True) -> str:
    """Enable JWT auth trusting the lab identity provider: by OIDC discovery
    (``oidc_discovery_url``) or by its JWKS (``jwks_url``)."""
    accessor = enable_auth(lab, "jwt", mount)
    config = ({"oidc_discovery_url": idp.issuer, "bound_issuer": idp.issuer} if discovery
              else {"jwks_url": idp.jwks_url, "bound_issuer": idp.issuer})
    _call(lab, "POST", f"auth/{mount}/config", json=config, what="Configuring JWT auth",
          fix="Start the identity provider first (idp.start()); the server fetches its keys now.")
    return accessor


def setup_jwt_role(lab, role: str, bound_audiences: list[str], policies: list[str], user_claim: str = "sub",
                   bound_claims: dict | None = None, claim_mappings: dict | None = None, token_ttl: str = "15m",
                   mount: str = "jwt") -> None:
    """``POST /v1/auth/:mount/role/:role`` (role_type jwt)."""
    body = {"role_type": "jwt", "bound_audiences": bound_audiences, "user_claim": user_claim,
            "token_policies": policies, "token_ttl": token_ttl}
    if bound_claims:
        body["bound_claims"] = bound_claims
    if claim_mappings:
        body["claim_mappings"] = claim_mappings
    _call(lab, "POST", f"auth/{mount}/role/{role}", json=body, what=f"Writing JWT role {role!r}")


def login_jwt(lab, role: str, jwt, mount: str = "jwt") -> LoginResult:
    """``POST /v1/auth/:mount/login`` with a JWT (no token needed)."""
    return _login(lab, mount, "login", {"role": role, "jwt": _reveal(jwt)}, f"JWT login with role {role!r}")


# TLS certificates ---------------------------------------------------------------

def setup_cert_auth(lab, name: str, ca_pem_path, policies: list[str], allowed_common_names: list[str] | None = None,
                    mount: str = "cert", token_ttl: str = "15m") -> str:
    """``POST /v1/auth/:mount/certs/:name``: trust client certificates from this CA."""
    if not lab.tls:
        raise LabError("TLS certificate auth needs a TLS listener, and this lab has none.",
                       "Start the lab with VaultLab(name, tls=True).")
    accessor = enable_auth(lab, "cert", mount)
    body = {"certificate": open(ca_pem_path).read(), "token_policies": policies, "token_ttl": token_ttl}
    if allowed_common_names:
        body["allowed_common_names"] = allowed_common_names
    _call(lab, "POST", f"auth/{mount}/certs/{name}", json=body, what=f"Writing cert role {name!r}")
    return accessor


def login_cert(lab, issued, name: str | None = None, mount: str = "cert") -> LoginResult:
    """``POST /v1/auth/:mount/login`` over mutual TLS with a lab-CA client certificate."""
    if not lab.tls:
        raise LabError("TLS certificate auth needs a TLS listener.", "Start the lab with VaultLab(name, tls=True).")
    body = {"name": name} if name else {}
    return _login(lab, mount, "login", body, "Certificate login", cert=(str(issued.cert_path), str(issued.key_path)))

"""Using a plugin the way a client does: the template's credential life cycle
through the API (config, role, credential, renew, revoke), the server CLI, and an
auth method login."""

from __future__ import annotations

import html
import subprocess
from dataclasses import dataclass, field

from ..errors import LabError
from ..redact import redact, register as register_secret
from .catalog import Mount


@dataclass
class Tour:
    """Steps taken against a mount: (what, endpoint, result) rows, safe to show."""

    title: str
    steps: list[tuple[str, str, str]] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def add(self, what: str, endpoint: str, result) -> None:
        self.steps.append((what, endpoint, redact(str(result))))

    def __repr__(self) -> str:
        lines = [self.title] + [f"  {w:<34} {e:<36} {r}" for w, e, r in self.steps]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(w)}</td><td><code>{html.escape(e)}</code></td>"
                       f"<td>{html.escape(r)}</td></tr>" for w, e, r in self.steps)
        return (f"<p><b>{html.escape(self.title)}</b></p><table><tr><th>Step</th><th>Endpoint</th>"
                f"<th>Result</th></tr>{rows}</table>")


def credential_tour(lab, mount: Mount, role: str = "app", ttl: str = "120s") -> Tour:
    """Config, role, a credential under a lease, renew it, revoke it, and check the
    engine forgot it (``issued/``). Works on the lab's secrets template."""
    c = lab.client
    p = mount.api_prefix
    tour = Tour(f"Credential life cycle on {p}/")
    if not lab.request("GET", f"{p}/roles", params={"help": 1},
                       headers={"X-Vault-Token": lab.credentials.root_token.reveal()}).ok:
        tour.add("not the lab's template", f"{p}/roles", "this tour follows the lab's secrets template; call "
                 "your own plugin's paths with lab.client.read / lab.client.write")
        return tour
    c.write(f"{p}/config", username_prefix="lab", password_length=24)
    tour.add("configure the engine", f"PUT /v1/{p}/config", "username_prefix=lab, password_length=24")
    c.write(f"{p}/roles/{role}", ttl=ttl, max_ttl="1h")
    tour.add("create a role", f"PUT /v1/{p}/roles/{role}", f"ttl={ttl}, max_ttl=1h")
    cred = c.read(f"{p}/creds/{role}")
    register_secret(cred["data"]["password"], "plugin-password")
    username = cred["data"]["username"]
    tour.add("issue a credential", f"GET /v1/{p}/creds/{role}",
             f"username={username}, password=<redacted>, lease {cred['lease_duration']} s, "
             f"renewable={cred['renewable']}")
    issued = (c.list(f"{p}/issued") or {}).get("data", {}).get("keys", [])
    tour.add("the engine tracks it", f"LIST /v1/{p}/issued", ", ".join(issued))
    renewed = c.sys.renew_lease(lease_id=cred["lease_id"], increment=60)
    tour.add("renew the lease", "PUT /v1/sys/leases/renew", f"lease now {renewed['lease_duration']} s")
    c.sys.revoke_lease(lease_id=cred["lease_id"])
    after = (c.list(f"{p}/issued") or {}).get("data", {}).get("keys", [])
    tour.add("revoke the lease", "PUT /v1/sys/leases/revoke", "revoked")
    tour.add("the engine forgot it", f"LIST /v1/{p}/issued", ", ".join(after) or "(empty)")
    tour.facts = {"username": username, "lease_duration": cred["lease_duration"], "renewable": cred["renewable"],
                  "renewed_duration": renewed["lease_duration"], "issued_before": issued, "issued_after": after,
                  "fields": sorted(cred["data"])}
    return tour


def login_tour(lab, mount: Mount, user: str = "alice", api_key: str = "alice-key-0123456789",
               metadata: str = "team=payments") -> Tour:
    """Create a user on the auth template, log in, look up the token (policies,
    metadata, entity alias) and renew it."""
    c = lab.client
    p = mount.api_prefix
    register_secret(api_key, "plugin-api-key")
    tour = Tour(f"Login on {p}/")
    c.write(f"{p}/users/{user}", api_key=api_key, policies="default", metadata=metadata, ttl="300s", max_ttl="1h")
    tour.add("create a user", f"PUT /v1/{p}/users/{user}", f"policies=default, metadata {metadata}")
    login = lab.new_client().write(f"{p}/login", username=user, api_key=api_key)
    auth = login["auth"]
    register_secret(auth["client_token"], "client-token")
    tour.add("log in", f"PUT /v1/{p}/login", f"token <redacted>, ttl {auth['lease_duration']} s, "
             f"renewable={auth['renewable']}, metadata {auth['metadata']}")
    user_client = lab.new_client(auth["client_token"])
    me = user_client.auth.token.lookup_self()["data"]
    entity = c.read(f"identity/entity/id/{me['entity_id']}")["data"]
    aliases = [a["name"] for a in entity["aliases"]]
    tour.add("token lookup", "GET /v1/auth/token/lookup-self", f"policies {me['policies']}, meta {me['meta']}")
    tour.add("entity alias", "GET /v1/identity/entity/id/:id", f"entity {entity['name']}, aliases {aliases}")
    renewed = user_client.auth.token.renew_self(increment=120)["auth"]
    tour.add("renew the token", "PUT /v1/auth/token/renew-self", f"ttl now {renewed['lease_duration']} s")
    c.auth.token.revoke(auth["client_token"])
    tour.add("revoke the token", "PUT /v1/auth/token/revoke", "revoked")
    tour.facts = {"metadata": auth["metadata"], "policies": me["policies"], "aliases": aliases,
                  "renewable": auth["renewable"], "renewed_ttl": renewed["lease_duration"]}
    return tour


def run_cli(lab, *args: str, timeout: float = 30) -> str:
    """Run the server's CLI (``bao`` or ``vault``) against the lab, output redacted."""
    binary = lab.binary
    env = dict(lab.env)
    import os

    full = dict(os.environ)
    full.update(env)
    out = subprocess.run([str(binary.path), *args], capture_output=True, text=True, env=full, timeout=timeout)
    text = (out.stdout + out.stderr).strip()
    if out.returncode != 0:
        raise LabError(f"`{binary.cli_name} {' '.join(args)}` failed: {redact(text)}",
                       "Check the path and that the plugin is enabled there.")
    return redact(f"$ {binary.cli_name} {' '.join(args)}\n{text}")

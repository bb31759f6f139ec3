"""The transit seal: a second lab server (the "unsealer") holds the key that wraps
the main server's root key; the main server asks it to encrypt and decrypt with a
periodic token that may do nothing else.

The unsealer is a durable lab (raft storage in its own lab folder): a dev-mode
unsealer keeps its transit key in memory, so one restart of it would leave the main
server unable to unseal, ever.
"""

from __future__ import annotations

from ..errors import LabError
from ..lab import VaultLab
from ..redact import Secret
from ..server.config import hcl_str, render

TRANSIT_MOUNT = "transit"
KEY_NAME = "autounseal"
POLICY_NAME = "autounseal"
POLICY = """# May encrypt and decrypt with the auto-unseal key, nothing else.
path "{mount}/encrypt/{key}" {{
  capabilities = ["update"]
}}
path "{mount}/decrypt/{key}" {{
  capabilities = ["update"]
}}
"""


class TransitUnsealer:
    """The unsealer lab server and its transit key.

    ``TransitUnsealer("vendor").start()`` runs the lab ``vendor-unsealer`` (durable,
    same lifetime as the labs it serves), mounts ``transit/`` and creates the key.
    ``seal_stanza()`` renders the ``seal "transit"`` block for the main server with a
    fresh token from :meth:`issue_token`.
    """

    def __init__(self, name: str = "lab", *, lifetime: str = "auto", tls: bool = False,
                 key_name: str = KEY_NAME, mount: str = TRANSIT_MOUNT, home=None):
        self.lab = VaultLab(f"{name}-unsealer", mode="durable", lifetime=lifetime, tls=tls,
                            key_shares=1, key_threshold=1, home=home, export_env=False)
        self.key_name = key_name
        self.mount = mount.strip("/")
        self.token: Secret | None = None

    def __repr__(self) -> str:
        return (f"TransitUnsealer({self.lab.name!r}, address={self.lab.address!r}, "
                f"key={self.mount}/keys/{self.key_name}, {'running' if self.running else 'stopped'})")

    @property
    def running(self) -> bool:
        return self.lab.running

    @property
    def address(self) -> str | None:
        return self.lab.address

    def start(self) -> "TransitUnsealer":
        """Start (or re-attach to) the unsealer; mount transit and create the key once."""
        self.lab.start()
        client = self.lab.client
        if f"{self.mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
            client.sys.enable_secrets_engine("transit", path=self.mount)
        # POST /v1/transit/keys/:name is idempotent: an existing key is left as it is.
        client.secrets.transit.create_key(self.key_name, key_type="aes256-gcm96", mount_point=self.mount)
        client.sys.create_or_update_policy(POLICY_NAME, POLICY.format(mount=self.mount, key=self.key_name))
        return self

    def stop(self) -> None:
        """Stop the unsealer (its raft data and key stay in its lab folder)."""
        self.lab.stop()

    def purge(self) -> None:
        """Stop the unsealer and delete its folder, key included: any server sealed by
        it can never unseal again."""
        self.lab.stop(purge=True)

    def issue_token(self, period: str = "24h") -> Secret:
        """``POST /v1/auth/token/create-orphan``: a periodic token with only the
        auto-unseal policy (plus ``default`` for renew-self/lookup-self). Orphan, so
        revoking the unsealer's root token does not take it along."""
        resp = self.lab.client.auth.token.create_orphan(policies=[POLICY_NAME], period=period,
                                                      display_name="autounseal")
        self.token = Secret(resp["auth"]["client_token"], "transit-seal-token")
        return self.token

    def token_policies(self, token: Secret | None = None) -> list[str]:
        """``POST /v1/auth/token/lookup``: the policies of the seal token."""
        token = token or self.token
        data = self.lab.client.auth.token.lookup(token.reveal())["data"]
        return sorted(data.get("policies") or [])

    def seal_stanza(self, token: Secret | str | None = None, disabled: bool = False) -> str:
        """The ``seal "transit"`` block for the main server's config."""
        if not self.running:
            raise LabError(f"The unsealer {self.lab.name!r} is not running.", "Call unsealer.start() first.")
        token = token if token is not None else (self.token or self.issue_token())
        value = token.reveal() if isinstance(token, Secret) else str(token)
        tls_lines = f"  tls_ca_cert     = {hcl_str(self.lab.ca_cert)}" if self.lab.tls else ""
        return render("seals/transit.hcl.tmpl", address=hcl_str(self.address), token=hcl_str(value),
                      key_name=hcl_str(self.key_name), mount_path=hcl_str(self.mount + "/"),
                      disabled=hcl_str(str(disabled).lower()), tls_lines=tls_lines)

    # Failure modes -----------------------------------------------------------
    def revoke_token(self, token: Secret | None = None) -> None:
        """``POST /v1/auth/token/revoke``: the seal's credentials stop working."""
        token = token or self.token
        self.lab.client.auth.token.revoke(token.reveal())

    def disable_key(self) -> None:
        """Make the key refuse to decrypt what the seal wrapped: rotate it and raise
        ``min_decryption_version`` past version 1 (``POST /v1/transit/keys/:name/config``).
        Reversible with :meth:`enable_key`, unlike deleting the key."""
        transit = self.lab.client.secrets.transit
        transit.rotate_key(self.key_name, mount_point=self.mount)
        latest = transit.read_key(self.key_name, mount_point=self.mount)["data"]["latest_version"]
        transit.update_key_configuration(self.key_name, min_decryption_version=latest,
                                         mount_point=self.mount)

    def enable_key(self) -> None:
        """Allow every key version to decrypt again (``min_decryption_version`` 1)."""
        self.lab.client.secrets.transit.update_key_configuration(
            self.key_name, min_decryption_version=1, mount_point=self.mount)

    def key_info(self) -> dict:
        """``GET /v1/transit/keys/:name``: type, versions, and whether it may be exported
        (never: the key leaves the unsealer only as ciphertext)."""
        data = self.lab.client.secrets.transit.read_key(self.key_name, mount_point=self.mount)["data"]
        return {"name": data["name"], "type": data["type"], "latest_version": data["latest_version"],
                "min_decryption_version": data["min_decryption_version"],
                "exportable": data["exportable"], "deletion_allowed": data["deletion_allowed"]}

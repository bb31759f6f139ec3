"""The KMIP seal: a lab KMIP server (PyKMIP, KMIP 1.4) on loopback, mutual TLS with
EC certificates from the lab CA, its AES keys generated and used inside the lab's
SoftHSM token (see :mod:`labkit.seals.kmip_server`).

Two quirks of the protocol and of PyKMIP shape the steps:

* the client certificate's common name owns a key: the key is created with the very
  certificate the server will use, or the seal gets PermissionDenied;
* a new key is ``Pre-Active``: it must be activated before init can use it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import LabError
from ..pki import IssuedCert
from ..server.config import hcl_str, render
from ..services.supervisor import LabProcess, Lifetime, free_port, spawn
from ..workspace import write_private

SERVER_CN = "lab-kmip-server"
STATE = "kmip-server.json"
TOKEN_LABEL = "kmip"


READY_LINE = "lab KMIP server ready on"


def _said_ready(log: Path, offset: int) -> bool:
    with open(log, "rb") as fh:
        fh.seek(offset)
        return READY_LINE.encode() in fh.read()


class LabKmipServer:
    """The lab's KMIP server for ``lab`` (its CA, folder and lifetime)."""

    def __init__(self, lab, token_label: str = TOKEN_LABEL, port: int | None = None):
        self.lab = lab
        self.token_label = token_label
        self.port = port
        self.process: LabProcess | None = None
        self._token = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LabKmipServer(endpoint={self.endpoint!r}, token={self.token_label!r}, {state})"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    @property
    def endpoint(self) -> str | None:
        return f"127.0.0.1:{self.port}" if self.port else None

    @property
    def log_path(self) -> Path:
        return self.lab.workspace.logs_dir / "kmip-server.log"

    @property
    def token(self):
        """The lab's SoftHSM token that holds the KMIP keys (created on first use)."""
        if self._token is None:
            from ..hsm.softhsm import SoftHSMToken

            self._token = SoftHSMToken(self.lab.workspace, self.token_label).ensure()
        return self._token

    def server_cert(self) -> IssuedCert:
        ca = self.lab.ca
        cert, key = ca.folder / "kmip-server.pem", ca.folder / "kmip-server-key.pem"
        if cert.exists() and key.exists():
            return IssuedCert(cert, key)
        return ca.issue(SERVER_CN, server=True, hosts=("127.0.0.1", "localhost"), stem="kmip-server")

    def client_cert(self, common_name: str = "openbao-seal") -> IssuedCert:
        """A client certificate (EC, from the lab CA) whose CN will own keys."""
        ca = self.lab.ca
        stem = f"kmip-client-{common_name}"
        cert, key = ca.folder / f"{stem}.pem", ca.folder / f"{stem}-key.pem"
        if cert.exists() and key.exists():
            return IssuedCert(cert, key)
        return ca.issue(common_name, client=True, stem=stem)

    def start(self, timeout: float = 30) -> "LabKmipServer":
        """Start the server through the supervisor (same lifetime as the lab), or
        re-attach to the one this lab folder already runs (a re-run notebook cell)."""
        if self.running:
            return self
        record = self.lab.workspace.read_json(STATE) if self.lab.workspace.exists() else None
        existing = LabProcess.attach(record["process"]) if record else None
        if existing is not None:
            self.process, self.port = existing, record["port"]
            return self
        self.lab.workspace.ensure()
        self.token  # noqa: B018 - the token exists before the server logs in
        issued = self.server_cert()
        self.port = self.port or free_port()
        config = write_private(self.lab.workspace.config_dir / "pykmip-server.conf", render(
            "seals/pykmip-server.conf.tmpl", port=self.port, cert=issued.cert_path, key=issued.key_path,
            ca=self.lab.ca.cert_path, database=self.lab.workspace.data_dir / "kmip.sqlite"))
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        lifetime = self.lab.lifetime if isinstance(self.lab.lifetime, Lifetime) else Lifetime.resolve(None)
        self.process = spawn("kmip-server", [sys.executable, "-m", "labkit.seals.kmip_server",
                                             str(self.lab.workspace.root), str(config), self.token_label,
                                             str(self.log_path)],
                             self.log_path, lifetime, cwd=self.lab.workspace.root)
        # Ready when it says so in its log (a probe connection would log a failed TLS handshake).
        self.process.wait_until(lambda: _said_ready(self.log_path, offset), timeout,
                                f"accepting KMIP on {self.endpoint}")
        self.lab.workspace.write_json(STATE, {"port": self.port, "process": self.process.record()})
        return self

    def stop(self) -> None:
        """Stop the server; its keys stay in SoftHSM and its objects in SQLite."""
        if self.process is not None:
            self.process.stop()
        stop_kmip_server(self.lab.workspace)

    def client(self, cert: IssuedCert):
        """A PyKMIP client authenticated by ``cert`` (use it in a ``with`` block)."""
        from kmip.pie.client import ProxyKmipClient

        if not self.running:
            raise LabError("The lab KMIP server is not running.", "Call kmip.start() first.")
        return ProxyKmipClient(hostname="127.0.0.1", port=self.port, cert=str(cert.cert_path),
                               key=str(cert.key_path), ca=str(self.lab.ca.cert_path),
                               config_file="/dev/null", kmip_version=None)

    def create_key(self, cert: IssuedCert, activate: bool = True) -> str:
        """KMIP Create (AES-256, Encrypt|Decrypt) then Activate, as the CN of ``cert``
        (so it owns the key). Returns the key's unique identifier."""
        from kmip.core import enums

        with self.client(cert) as client:
            uid = client.create(enums.CryptographicAlgorithm.AES, 256, cryptographic_usage_mask=[
                enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT])
            if activate:
                client.activate(uid)
        return uid

    def activate_key(self, cert: IssuedCert, uid: str) -> None:
        """KMIP Activate: Pre-Active -> Active (only the owner may)."""
        with self.client(cert) as client:
            client.activate(uid)

    def key_state(self, cert: IssuedCert, uid: str) -> str:
        """KMIP Get Attributes ``State`` of the key (Pre-Active, Active, Deactivated...)."""
        with self.client(cert) as client:
            _, attrs = client.get_attributes(uid, ["State"])
        return attrs[0].attribute_value.value.name if attrs else "unknown"

    def revoke_key(self, cert: IssuedCert, uid: str) -> None:
        """KMIP Revoke: the key becomes Deactivated and refuses Encrypt and Decrypt.
        KMIP has no way back from Deactivated: use it on a key you can lose."""
        from kmip.core import enums

        with self.client(cert) as client:
            client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)

    def seal_stanza(self, key_id: str, cert: IssuedCert, disabled: bool = False) -> str:
        """The ``seal "kmip"`` block for the lab server."""
        _require_seal(self.lab, "kmip")
        if not self.endpoint:
            raise LabError("The lab KMIP server has no port yet.", "Call kmip.start() first.")
        return render("seals/kmip.hcl.tmpl", endpoint=hcl_str(self.endpoint), key_id=hcl_str(key_id),
                      client_cert=hcl_str(cert.cert_path), client_key=hcl_str(cert.key_path),
                      ca_cert=hcl_str(self.lab.ca.cert_path), server_name=hcl_str("127.0.0.1"),
                      disabled=hcl_str(str(disabled).lower()))

    def hsm_keys(self) -> list:
        """The KMIP keys on the SoftHSM token, with their PKCS#11 attributes."""
        return [o for o in self.token.objects() if o.label.startswith("kmip-")]


def stop_kmip_server(workspace) -> bool:
    """Stop the KMIP server recorded in ``workspace`` (from any process); True if one ran."""
    if not workspace.exists():
        return False
    record = workspace.read_json(STATE)
    proc = LabProcess.attach(record["process"]) if record else None
    if proc is not None:
        proc.stop()
    workspace.delete(STATE)
    return proc is not None


def _require_seal(lab, seal: str) -> None:
    binary = lab._require_binary() if hasattr(lab, "_require_binary") else lab.binary
    binary.require(f'The {seal} seal', seal in binary.capabilities.seals,
                   "Use OpenBao (the lab's embedded `bao`, e.g. LABKIT_VAULT_BIN unset) or Vault Enterprise; "
                   "the transit seal works everywhere.")

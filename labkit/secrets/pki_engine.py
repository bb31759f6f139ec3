"""PKI: a root CA and an intermediate CA inside the server, a role, issued
certificates verified with ``cryptography``, revocation and the CRL.

The root signs only the intermediate; the intermediate issues leaf certificates for
what a role allows. Clients verify leaf -> intermediate -> root with the root as the
only trust anchor, and learn about revocations from the intermediate's CRL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import hvac
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from hvac.exceptions import InvalidRequest

from ..errors import LabError
from ..redact import Secret
from .display import Table
from .engines import enable_engine


def load_cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def serial_to_int(serial: str) -> int:
    """Vault writes serials as ``3a:1f:...``; cryptography uses integers."""
    return int(serial.replace(":", "").replace("-", ""), 16)


@dataclass
class IssuedLeaf:
    """A certificate issued by the intermediate. The private key is a masked Secret."""

    certificate: str
    issuing_ca: str
    ca_chain: list[str]
    serial_number: str
    private_key: Secret = field(repr=False)
    common_name: str = ""

    @property
    def x509(self) -> x509.Certificate:
        return load_cert(self.certificate)

    @property
    def not_after(self) -> dt.datetime:
        return self.x509.not_valid_after_utc

    @property
    def dns_names(self) -> list[str]:
        try:
            ext = self.x509.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        return ext.value.get_values_for_type(x509.DNSName)

    def __repr__(self) -> str:
        return (f"IssuedLeaf(cn={self.common_name!r}, serial={self.serial_number}, "
                f"not_after={self.not_after:%Y-%m-%d %H:%M}Z, private_key=****)")


@dataclass
class ChainVerification:
    """What ``cryptography``'s X.509 verifier said about a leaf certificate."""

    valid: bool
    hostname: str
    path: list[str]
    error: str = ""

    def __repr__(self) -> str:
        if self.valid:
            return f"valid for {self.hostname}: " + " -> ".join(self.path)
        return f"NOT valid for {self.hostname}: {self.error}"


class PKIHierarchy:
    """A root CA at ``root_mount`` and an intermediate CA at ``int_mount``."""

    def __init__(self, client: hvac.Client, root_mount: str = "pki-root", int_mount: str = "pki-int"):
        self.client = client
        self.root_mount = root_mount.strip("/")
        self.int_mount = int_mount.strip("/")
        self.root_pem: str | None = None
        self.intermediate_pem: str | None = None

    def __repr__(self) -> str:
        return f"PKIHierarchy(root={self.root_mount!r}, intermediate={self.int_mount!r})"

    def _write(self, path: str, **data) -> dict:
        try:
            return self.client.write_data(path, data=data)
        except InvalidRequest as exc:
            raise LabError(f"POST /v1/{path} was refused: {exc}",
                           "Check the arguments against the role and the CA; lab.process.tail() shows the log.") from None

    def _urls(self, mount: str) -> None:
        """``POST /v1/:mount/config/urls``: where clients find the CA and its CRL."""
        base = self.client.url.rstrip("/")
        self._write(f"{mount}/config/urls", issuing_certificates=[f"{base}/v1/{mount}/ca"],
                    crl_distribution_points=[f"{base}/v1/{mount}/crl"])

    def build_root(self, common_name: str = "Lab Root CA", ttl: str = "87600h", fresh: bool = True) -> x509.Certificate:
        """Mount the root, then ``POST /v1/:root/root/generate/internal`` (the key stays inside)."""
        enable_engine(self.client, "pki", self.root_mount, fresh=fresh, config={"max_lease_ttl": ttl})
        resp = self._write(f"{self.root_mount}/root/generate/internal", common_name=common_name, ttl=ttl,
                           key_type="ec", key_bits=256)
        self.root_pem = resp["data"]["certificate"]
        self._urls(self.root_mount)
        return load_cert(self.root_pem)

    def build_intermediate(self, common_name: str = "Lab Intermediate CA", ttl: str = "43800h",
                           fresh: bool = True) -> x509.Certificate:
        """Mount the intermediate; ``POST /v1/:int/intermediate/generate/internal`` (CSR),
        ``POST /v1/:root/root/sign-intermediate``, ``POST /v1/:int/intermediate/set-signed``."""
        if self.root_pem is None:
            raise LabError("The intermediate needs a root CA to sign it.", "Call build_root() first.")
        enable_engine(self.client, "pki", self.int_mount, fresh=fresh, config={"max_lease_ttl": ttl})
        csr = self._write(f"{self.int_mount}/intermediate/generate/internal", common_name=common_name,
                          key_type="ec", key_bits=256)["data"]["csr"]
        signed = self._write(f"{self.root_mount}/root/sign-intermediate", csr=csr, format="pem_bundle",
                             ttl=ttl)["data"]["certificate"]
        self._write(f"{self.int_mount}/intermediate/set-signed", certificate=signed)
        self.intermediate_pem = signed.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
        self._urls(self.int_mount)
        return load_cert(self.intermediate_pem)

    def create_role(self, name: str, allowed_domains: list[str], *, allow_subdomains: bool = True,
                    max_ttl: str = "72h", server: bool = True, client: bool = False) -> dict:
        """``POST /v1/:int/roles/:name``: which names and lifetimes certificates may have."""
        self._write(f"{self.int_mount}/roles/{name}", allowed_domains=allowed_domains,
                    allow_subdomains=allow_subdomains, allow_bare_domains=False, max_ttl=max_ttl,
                    server_flag=server, client_flag=client, key_type="ec", key_bits=256)
        return self.client.read(f"{self.int_mount}/roles/{name}")["data"]

    def issue(self, role: str, common_name: str, *, ttl: str = "24h", alt_names: list[str] | None = None) -> IssuedLeaf:
        """``POST /v1/:int/issue/:role``: a new key pair and certificate (the key is shown once)."""
        data = {"common_name": common_name, "ttl": ttl}
        if alt_names:
            data["alt_names"] = ",".join(alt_names)
        try:
            resp = self.client.write_data(f"{self.int_mount}/issue/{role}", data=data)
        except InvalidRequest as exc:
            text = str(exc)
            if "not allowed" in text:
                raise LabError(f"Role {role!r} does not allow {common_name!r}: {text}",
                               "Ask for a name under the role's allowed_domains, or widen the role.") from None
            if "unknown role" in text or "no role" in text:
                raise LabError(f"There is no role {role!r} at {self.int_mount}/.",
                               "Create it with create_role(name, allowed_domains=[...]).") from None
            raise LabError(f"Issuing {common_name!r} with role {role!r} failed: {text}",
                           "Check the ttl against the role's max_ttl.") from None
        d = resp["data"]
        return IssuedLeaf(certificate=d["certificate"], issuing_ca=d["issuing_ca"], ca_chain=d.get("ca_chain") or [],
                          serial_number=d["serial_number"], private_key=Secret(d["private_key"], "private-key"),
                          common_name=common_name)

    def verify(self, leaf: IssuedLeaf, hostname: str | None = None,
               at: dt.datetime | None = None) -> ChainVerification:
        """Verify ``leaf`` for ``hostname`` as a TLS client would: root as the only
        trust anchor, intermediate as an untrusted helper (cryptography's verifier)."""
        if self.root_pem is None:
            raise LabError("No root CA to verify against.", "Call build_root() and build_intermediate() first.")
        hostname = hostname or leaf.common_name
        builder = PolicyBuilder().store(Store([load_cert(self.root_pem)]))
        if at is not None:
            builder = builder.time(at)
        verifier = builder.build_server_verifier(x509.DNSName(hostname))
        intermediates = [load_cert(pem) for pem in ([leaf.issuing_ca] + leaf.ca_chain)]
        try:
            chain = verifier.verify(leaf.x509, intermediates)
        except VerificationError as exc:
            reason = str(exc).split(" (encountered processing")[0]
            return ChainVerification(False, hostname, [], reason)
        return ChainVerification(True, hostname, [c.subject.rfc4514_string() for c in chain])

    def revoke(self, serial_number: str) -> dt.datetime:
        """``POST /v1/:int/revoke``; returns the revocation time."""
        resp = self._write(f"{self.int_mount}/revoke", serial_number=serial_number)
        return dt.datetime.fromtimestamp(resp["data"]["revocation_time"], dt.timezone.utc)

    def crl(self, mount: str | None = None) -> x509.CertificateRevocationList:
        """``GET /v1/:mount/crl/pem`` (unauthenticated, as any client fetches it)."""
        mount = mount or self.int_mount
        resp = self.client.adapter.get(f"/v1/{mount}/crl/pem", raise_exception=True)
        text = resp.text if hasattr(resp, "text") else str(resp)
        return x509.load_pem_x509_crl(text.encode())

    def is_revoked(self, leaf: IssuedLeaf) -> bool:
        """Whether ``leaf``'s serial is on the intermediate's CRL, after checking the
        CRL's signature with the intermediate's public key."""
        crl = self.crl()
        issuer = load_cert(self.intermediate_pem or leaf.issuing_ca)
        if not crl.is_signature_valid(issuer.public_key()):
            raise LabError("The CRL's signature does not match the intermediate CA.",
                           "Fetch the CRL from the mount that issued the certificate.")
        return crl.get_revoked_certificate_by_serial_number(serial_to_int(leaf.serial_number)) is not None

    def crl_table(self) -> Table:
        crl = self.crl()
        rows = [[format(r.serial_number, "x"), f"{r.revocation_date_utc:%Y-%m-%d %H:%M:%S}Z"] for r in crl]
        return Table(["serial (hex)", "revoked at"], rows,
                     title=f"CRL of {self.int_mount}: {len(rows)} revoked, next update "
                           f"{crl.next_update_utc:%Y-%m-%d %H:%M}Z")

    def chain_table(self, leaf: IssuedLeaf) -> Table:
        rows = []
        for label, pem in (("leaf", leaf.certificate), ("intermediate", leaf.issuing_ca), ("root", self.root_pem)):
            cert = load_cert(pem)
            rows.append([label, cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                         f"{cert.not_valid_after_utc:%Y-%m-%d}"])
        return Table(["", "subject", "issuer", "valid until"], rows, title="Certificate chain")

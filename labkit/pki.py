"""The lab CA: one EC P-256 certificate authority per lab, made with `cryptography`,
issuing the server certificate (127.0.0.1 and localhost) and client certificates
(for TLS certificate auth and KMIP mutual TLS)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .redact import register
from .workspace import write_private


@dataclass(frozen=True)
class IssuedCert:
    cert_path: Path
    key_path: Path

    def __repr__(self) -> str:
        return f"IssuedCert(cert={str(self.cert_path)!r}, key=<private {self.key_path.name}>)"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _pem_key(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class LabCA:
    """A CA kept in ``folder`` (``ca.pem`` public, ``ca-key.pem`` 0600)."""

    def __init__(self, folder: Path, name: str = "Vault Integration Lab CA"):
        self.folder = Path(folder)
        self.name = name
        self.cert_path = self.folder / "ca.pem"
        self.key_path = self.folder / "ca-key.pem"

    def __repr__(self) -> str:
        return f"LabCA({str(self.cert_path)!r})"

    def ensure(self) -> "LabCA":
        if not (self.cert_path.exists() and self.key_path.exists()):
            key = ec.generate_private_key(ec.SECP256R1())
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
            cert = (
                x509.CertificateBuilder()
                .subject_name(subject).issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(_now() - dt.timedelta(minutes=5))
                .not_valid_after(_now() + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            write_private(self.key_path, _pem_key(key))
            write_private(self.cert_path, cert.public_bytes(serialization.Encoding.PEM).decode())
        register(self.key_path.read_text(), "private-key")
        return self

    def _load(self):
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        return key, cert

    def issue(self, common_name: str, *, server: bool = False, client: bool = False,
              hosts: tuple[str, ...] = (), days: int = 825, stem: str | None = None) -> IssuedCert:
        """Issue a certificate for ``common_name`` into this CA's folder."""
        ca_key, ca_cert = self._load()
        key = ec.generate_private_key(ec.SECP256R1())
        usages = []
        if server:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if hosts:
            names = []
            for host in hosts:
                try:
                    names.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    names.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        stem = stem or common_name.replace(" ", "-").lower()
        key_pem = _pem_key(key)
        register(key_pem, "private-key")
        key_path = write_private(self.folder / f"{stem}-key.pem", key_pem)
        cert_path = write_private(self.folder / f"{stem}.pem",
                                  cert.public_bytes(serialization.Encoding.PEM).decode())
        return IssuedCert(cert_path, key_path)

    def server_cert(self) -> IssuedCert:
        """The loopback server certificate, issued once per lab."""
        cert, key = self.folder / "server.pem", self.folder / "server-key.pem"
        if cert.exists() and key.exists():
            register(key.read_text(), "private-key")
            return IssuedCert(cert, key)
        return self.issue("127.0.0.1", server=True, hosts=("127.0.0.1", "localhost", "::1"), stem="server")

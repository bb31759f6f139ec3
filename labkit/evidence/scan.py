"""The secret scanner: every packed file is searched for the run's secret values and
for credential shapes; any hit fails the run (``certify``) or the check (``verify``).

Values come from the run itself, loaded and never copied: every ``credentials.json``
left in the run's lab folders and each kernel's private capture of the secrets it
registered (:mod:`labkit.evidence.capture`). A reviewer running ``verify`` has no
values, so there only the shapes are searched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .. import redact

# Shapes beyond the redactor's own (tokens, PEM private keys): a PEM private key header
# even when cut off, AWS access key ids, and a "-----BEGIN ... PRIVATE KEY" in JSON-escaped text.
EXTRA_SHAPES = {
    "private-key-header": re.compile(r"-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----"),
    "aws-access-key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
}
MIN_VALUE_LEN = 8  # shorter values (a 4-digit PIN) are masked but cannot be told from ordinary text


@dataclass(frozen=True)
class Hit:
    file: str
    kind: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}"


def credential_values(roots) -> dict[str, str]:
    """Secret value -> kind, from every credentials.json and capture file under ``roots``."""
    values: dict[str, str] = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            continue
        files = [root] if root.is_file() else [*root.rglob("credentials.json"), *root.rglob("secrets.json")]
        for path in files:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if path.name == "secrets.json" and isinstance(data, dict):
                values.update({str(k): str(v) for k, v in data.items()})
                continue
            if not isinstance(data, dict):
                continue
            if data.get("root_token"):
                values[data["root_token"]] = "root-token"
            for key in data.get("unseal_keys") or []:
                values[key] = "unseal-key"
            for key in data.get("recovery_keys") or []:
                values[key] = "recovery-key"
            for name, item in (data.get("extra") or {}).items():
                if isinstance(item, dict) and item.get("value"):
                    values[str(item["value"])] = item.get("kind", name)
    return {v: k for v, k in values.items() if v}


def register_values(values: dict[str, str]) -> None:
    for value, kind in values.items():
        redact.register(value, kind)


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def scan_text(text: str, name: str, values: dict[str, str] | None = None) -> list[Hit]:
    hits = []
    for value, kind in (values or {}).items():
        if len(value) < MIN_VALUE_LEN:
            continue
        at = text.find(value)
        if at >= 0:
            hits.append(Hit(name, f"value of a {kind}", _line_of(text, at)))
    shapes = {"token": redact.TOKEN_SHAPE, "private-key": redact.PRIVATE_KEY_SHAPE, **EXTRA_SHAPES}
    for kind, pattern in shapes.items():
        match = pattern.search(text)
        if match:
            hits.append(Hit(name, f"{kind} shape", _line_of(text, match.start())))
    return hits


def scan_folder(folder: Path, values: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> list[Hit]:
    """Scan every file under ``folder`` (names relative to it)."""
    folder = Path(folder)
    hits = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in skip:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        hits.extend(scan_text(text, rel, values))
    return hits

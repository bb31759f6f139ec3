"""Reading audit entries: JSON lines from a file device or a lab sink, paired into
request/response rows, with the fields the device HMAC'd."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..ui.records import Records

HMAC_PREFIX = "hmac-sha256:"


def parse_lines(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return entries


def read_entries(path) -> list[dict]:
    """All complete entries in an audit file (an absent file has none)."""
    try:
        return parse_lines(Path(path).read_text(errors="replace"))
    except FileNotFoundError:
        return []


def hmac_fields(entry: dict, prefix: str = "") -> list[str]:
    """Dotted names of the fields whose value the device replaced by an HMAC."""
    found = []
    if isinstance(entry, dict):
        for key, value in entry.items():
            found += hmac_fields(value, f"{prefix}{key}.")
    elif isinstance(entry, list):
        for i, value in enumerate(entry):
            found += hmac_fields(value, f"{prefix}{i}.")
    elif isinstance(entry, str) and entry.startswith(HMAC_PREFIX):
        found.append(prefix.rstrip("."))
    return found


def find_value(entries: list[dict], needle: str) -> list[dict]:
    """Entries whose JSON contains ``needle`` (e.g. an HMAC from sys/audit-hash)."""
    return [e for e in entries if needle in json.dumps(e)]


def paths(entries: list[dict]) -> set[str]:
    return {(e.get("request") or {}).get("path", "") for e in entries}


def pair(entries: list[dict]) -> list[dict]:
    """One row per request: its response (matched by request id) beside it."""
    rows, by_id = [], {}
    for entry in entries:
        req = entry.get("request") or {}
        rid = req.get("id")
        if entry.get("type") == "request":
            row = {"time": entry.get("time", "")[11:23], "operation": req.get("operation"),
                   "path": req.get("path"), "who": (entry.get("auth") or {}).get("display_name", ""),
                   "status": "(no response)", "hmac'd fields": len(hmac_fields(entry)), "id": rid}
            by_id[rid] = row
            rows.append(row)
        elif entry.get("type") == "response":
            row = by_id.get(rid)
            if row is None:
                row = {"time": entry.get("time", "")[11:23], "operation": req.get("operation"),
                       "path": req.get("path"), "who": "", "hmac'd fields": 0, "id": rid}
                rows.append(row)
            row["status"] = f"error: {entry['error']}" if entry.get("error") else "ok"
            row["hmac'd fields"] += len(hmac_fields(entry))
    return rows


COLUMNS = ("time", "operation", "path", "who", "status", "hmac'd fields")


def table(entries: list[dict], last: int = 15, title: str = "Audit entries") -> Records:
    """The last ``last`` request/response pairs as a table."""
    rows = pair(entries)[-last:]
    return Records(rows, COLUMNS, f"{title} ({len(rows)} of {len(pair(entries))} requests shown)")


class AuditLog:
    """A file audit device's log."""

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r}, {len(self.entries())} entries)"

    def entries(self) -> list[dict]:
        return read_entries(self.path)

    def table(self, last: int = 15) -> Records:
        return table(self.entries(), last, f"File audit log {self.path.name}")

    def line_count(self) -> int:
        return len(self.entries())

    def size(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

"""`labkit audit NAME [--last N]`: the audit entries of a lab, read from its folder
(declared file devices and the lab receivers), without needing the server to run."""

from __future__ import annotations

from ..workspace import Workspace
from .devices import STATE
from .log import parse_lines, read_entries, table


def audit_report(name: str, last: int = 15, home=None) -> str:
    """Text tables of the last ``last`` request/response pairs of every file device
    declared for lab ``name`` and of every audit receiver it ran."""
    ws = Workspace(name, home)
    if not ws.exists():
        from ..errors import LabError

        raise LabError(f"No lab called {name!r}.", "`labkit ps` lists the labs.")
    parts = []
    for mount, device in (ws.read_json(STATE) or {}).items():
        if device.get("type") == "file":
            path = device["options"]["file_path"]
            parts.append(repr(table(read_entries(path), last, f"{mount} ({path})")))
    for received in sorted(ws.logs_dir.glob("*-received.jsonl")):
        parts.append(repr(table(parse_lines(received.read_text(errors="replace")), last,
                                f"received by {received.name[:-len('-received.jsonl')]}")))
    return "\n\n".join(parts) or f"Lab {name!r} has no audit device declared by labkit."


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="labkit audit", description=__doc__)
    parser.add_argument("name")
    parser.add_argument("--last", type=int, default=15)
    args = parser.parse_args(argv)
    print(audit_report(args.name, args.last))
    return 0

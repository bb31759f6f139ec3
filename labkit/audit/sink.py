"""Lab receivers for streamed audit entries, run as side services:

* ``tcp``: a "SIEM" listener for the socket audit device (JSON lines over TCP);
* ``http``: a receiver for OpenBao's http audit device (one POST per entry).

Both append what they receive to a JSON-lines file in the lab's logs folder, which
the notebook reads (the widget in :mod:`labkit.audit.stream` shows it live)::

    python labkit/audit/_receiver.py tcp --port PORT --out LAB/logs/siem-received.jsonl
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

from ..errors import LabError
from ..services.supervisor import LOOPBACK, LabProcess, free_port, spawn
from .log import parse_lines, table

RECEIVER = Path(__file__).with_name("_receiver.py")


class AuditSink:
    """A lab receiver of audit entries (``kind`` "tcp" for the socket device, "http"
    for the http device), started and stopped through the supervisor."""

    def __init__(self, lab, kind: str = "tcp", name: str | None = None, port: int | None = None):
        if kind not in ("tcp", "http"):
            raise LabError(f"Unknown sink kind {kind!r}.", "Use 'tcp' (socket device) or 'http' (http device).")
        self.lab = lab
        self.kind = kind
        self.name = name or ("siem" if kind == "tcp" else "http-receiver")
        self.port = port
        self.process: LabProcess | None = None

    def __repr__(self) -> str:
        return (f"AuditSink({self.kind}, {self.address}, {'running' if self.running else 'stopped'}, "
                f"{len(self.entries())} entries received)")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def uri(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/audit"

    @property
    def received_path(self) -> Path:
        return self.lab.workspace.logs_dir / f"{self.name}-received.jsonl"

    @property
    def log_path(self) -> Path:
        return self.lab.workspace.logs_dir / f"{self.name}.log"

    @property
    def _record_name(self) -> str:
        return f"services/{self.name}.json"

    def start(self, timeout: float = 15) -> "AuditSink":
        """Start (or start again on the same port, as after an outage). A receiver of
        this name still running for the lab (a persistent lab after a kernel restart)
        is re-attached instead of started twice."""
        if self.running:
            return self
        state = self.lab.workspace.read_json(self._record_name) or {}
        proc = LabProcess.attach(state["process"]) if state.get("process") else None
        if proc is not None and state.get("kind") == self.kind and self.port in (None, state.get("port")):
            self.process, self.port = proc, state["port"]
            return self
        self.port = self.port or free_port()
        self.process = spawn(self.name, [sys.executable, str(RECEIVER), self.kind, "--port",
                                         str(self.port), "--out", str(self.received_path)],
                             self.log_path, self.lab.lifetime, cwd=self.lab.workspace.root)
        self.process.wait_until(self._accepting, timeout, f"listening on {self.address}")
        self.lab.workspace.write_json(self._record_name, {"kind": self.kind, "port": self.port,
                                                          "process": self.process.record()})
        return self

    def _accepting(self) -> bool:
        with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
            return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.lab.workspace.delete(self._record_name)

    def entries(self) -> list[dict]:
        try:
            return parse_lines(self.received_path.read_text(errors="replace"))
        except FileNotFoundError:
            return []

    def table(self, last: int = 15):
        return table(self.entries(), last, f"Received by the lab {'SIEM' if self.kind == 'tcp' else 'HTTP receiver'}")

    def wait_for_entries(self, count: int, timeout: float = 5) -> list[dict]:
        """Wait until ``count`` raw entries (requests and responses) arrived."""
        return self.wait_for(lambda entries: len(entries) >= count, timeout, f"{count} entries")

    def wait_for_requests(self, count: int, timeout: float = 5) -> list[dict]:
        """Wait until ``count`` requests (paired with their responses or not) arrived."""
        from .log import pair

        return self.wait_for(lambda entries: len(pair(entries)) >= count, timeout, f"{count} requests")

    def wait_for(self, predicate, timeout: float = 5, what: str = "the expected entries") -> list[dict]:
        """Wait until ``predicate(entries)`` is true; a clear error if it never is."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.entries()
            if predicate(entries):
                return entries
            if time.monotonic() > deadline:
                raise LabError(f"The {self.name} did not receive {what} within {timeout:g} s "
                               f"({len(entries)} entries so far).",
                               f"Check that the audit device points at {self.address} and read {self.log_path}.")
            time.sleep(0.05)

"""The lab identity provider: a small OIDC issuer labkit runs on loopback.

It serves ``/.well-known/openid-configuration`` and ``/jwks.json`` from files in
the lab folder (``idp/``); tokens are signed in the notebook's process with the
key kept there (:class:`~labkit.auth.jwt.JwtIssuer`). The JWT auth method fetches
the public keys from it, exactly as it would from a vendor's identity provider.

Run as a side service through the supervisor::

    python labkit/auth/_idp_server.py --port PORT --folder LAB/idp
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests

from ..errors import LabError
from ..services.supervisor import LOOPBACK, LabProcess, free_port, spawn
from ..workspace import write_private
from .jwt import JwtIssuer

SERVER = Path(__file__).with_name("_idp_server.py")


class IdentityProvider:
    """A running lab identity provider for ``lab`` (start/stop through the supervisor)."""

    def __init__(self, lab, name: str = "idp", port: int | None = None):
        self.lab = lab
        self.name = name
        self.folder = lab.workspace.path(name)
        self._port = port
        self.process: LabProcess | None = None
        self.issuer_obj: JwtIssuer | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"IdentityProvider(issuer={self.issuer!r}, {state})"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def issuer(self) -> str | None:
        return f"http://{LOOPBACK}:{self._port}" if self._port else None

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks.json"

    @property
    def log_path(self) -> Path:
        return self.lab.workspace.logs_dir / f"{self.name}.log"

    def start(self, timeout: float = 15) -> "IdentityProvider":
        if self.running:
            return self
        state = self.lab.workspace.read_json(f"services/{self.name}.json") or {}
        proc = LabProcess.attach(state["process"]) if state.get("process") else None
        if proc is not None and self._port in (None, state.get("port")):
            # Still running for this lab (a persistent lab after a kernel restart): re-attach.
            self.process, self._port = proc, state["port"]
            self.issuer_obj = JwtIssuer(self.folder, self.issuer)
            return self
        self._port = self._port or free_port()
        self.issuer_obj = JwtIssuer(self.folder, self.issuer)
        write_private(self.folder / "jwks.json", json.dumps(self.issuer_obj.jwks(), indent=2))
        write_private(self.folder / "openid-configuration.json", json.dumps(self.issuer_obj.discovery(), indent=2))
        self.process = spawn(self.name, [sys.executable, str(SERVER), "--port", str(self._port),
                                         "--folder", str(self.folder)],
                             self.log_path, self.lab.lifetime, cwd=self.lab.workspace.root)
        self.process.wait_until(lambda: requests.get(self.jwks_url, timeout=1).ok, timeout,
                                f"serving {self.jwks_url}")
        self.lab.workspace.write_json(f"services/{self.name}.json",
                                      {"port": self._port, "process": self.process.record()})
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.lab.workspace.delete(f"services/{self.name}.json")

    def issue(self, subject: str, audience, ttl: int = 300, claims: dict | None = None, **kwargs):
        """A signed JWT (masked :class:`~labkit.redact.Secret`) from this issuer."""
        if self.issuer_obj is None:
            raise LabError("The identity provider is not started.", "Call idp.start() first.")
        return self.issuer_obj.issue(subject, audience, ttl=ttl, claims=claims, **kwargs)

    def discovery(self) -> dict:
        """``GET /.well-known/openid-configuration`` from the running provider."""
        return requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).json()

    def jwks(self) -> dict:
        return requests.get(self.jwks_url, timeout=5).json()

"""``labkit doctor``: what this machine has for each part of the lab, and for each
missing part the command that installs it."""

from __future__ import annotations

import glob
import html
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import LabError


@dataclass(frozen=True)
class Finding:
    part: str
    ok: bool
    detail: str
    needed_for: str
    fix: str = ""


def _is_mac() -> bool:
    return platform.system() == "Darwin"


def _install(debian: str, mac: str) -> str:
    if _is_mac():
        return mac
    prefix = "" if os.geteuid() == 0 else "sudo "
    return f"{prefix}apt-get install -y {debian}"


def _run(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


SOFTHSM_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
    "/usr/local/opt/softhsm/lib/softhsm/libsofthsm2.so",
)


def softhsm_library() -> Path | None:
    """``$SOFTHSM2_LIB`` or the usual install places of libsofthsm2."""
    env = os.environ.get("SOFTHSM2_LIB")
    if env and Path(env).is_file():
        return Path(env)
    for pattern in SOFTHSM_CANDIDATES:
        for hit in sorted(glob.glob(pattern)):
            return Path(hit)
    return None


def postgres_bin_dir() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl`` (Debian keeps them off PATH)."""
    env = os.environ.get("LABKIT_PG_BIN")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    candidates += sorted(glob.glob("/opt/homebrew/opt/postgresql@*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def container_socket() -> str | None:
    """A Docker API socket: ``$DOCKER_HOST``, Docker's, or Podman's (root or rootless)."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return host
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
    for path in ("/var/run/docker.sock", f"{runtime}/podman/podman.sock", "/run/podman/podman.sock",
                 str(Path.home() / ".docker/run/docker.sock")):
        if os.path.exists(path):
            return f"unix://{path}"
    return None


GO_DEFAULT = "/usr/local/go/bin/go"  # Go's own installer puts it here, often off PATH


def go_binary() -> Path | None:
    """``$LABKIT_GO``, ``go`` on PATH, or Go's default install place."""
    for candidate in (os.environ.get("LABKIT_GO"), shutil.which("go"), GO_DEFAULT):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    mac = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
    return mac if os.path.exists(mac) else None


def diagnose() -> list[Finding]:
    from .server.binary import INSTALL_HINT, find_server_binary

    findings = []
    try:
        binary = find_server_binary()
        findings.append(Finding("Server binary", True, f"{binary.product} {binary.version_string} ({binary.source}: {binary.path})",
                                "every notebook"))
    except LabError as exc:
        findings.append(Finding("Server binary", False, exc.problem, "every notebook", INSTALL_HINT))

    lib = softhsm_library()
    findings.append(Finding("SoftHSM library", lib is not None, str(lib) if lib else "libsofthsm2 not found",
                            "04 HSM, 05 auto-unseal", _install("softhsm2", "brew install softhsm")))
    tool = shutil.which("pkcs11-tool")
    findings.append(Finding("pkcs11-tool", tool is not None, tool or "not on PATH", "04 HSM",
                            _install("opensc", "brew install opensc")))
    util = shutil.which("softhsm2-util")
    findings.append(Finding("softhsm2-util", util is not None, util or "not on PATH", "04 HSM, 05 auto-unseal",
                            _install("softhsm2", "brew install softhsm")))

    go = go_binary()
    go_version = _run([go, "version"]) if go else ""
    findings.append(Finding("Go toolchain", bool(go_version), go_version or "go not found",
                            "07 plugins, 04 PKCS#11 KMS plugin",
                            "Install Go 1.22 or newer from https://go.dev/doc/install (Debian's golang package is too old)"))

    pg = postgres_bin_dir()
    findings.append(Finding("PostgreSQL server", pg is not None, str(pg) if pg else "initdb not found",
                            "02 database secrets, 06 storage", _install("postgresql", "brew install postgresql@15")))

    sock = container_socket()
    engine = shutil.which("podman") or shutil.which("docker")
    findings.append(Finding("Container engine", sock is not None,
                            sock or (f"{engine} found but no API socket is running" if engine else "no Docker or Podman"),
                            "container backend (optional; the process backend needs none)",
                            "Start Docker, or `podman system service --time=0 unix:///tmp/podman.sock &` and "
                            "export DOCKER_HOST=unix:///tmp/podman.sock"))

    chrome = chromium_binary()
    findings.append(Finding("Chromium", chrome is not None, chrome or "not found", "browser end-to-end tests",
                            _install("chromium", "brew install --cask chromium")))
    return findings


def report_text(findings: list[Finding]) -> str:
    width = max(len(f.part) for f in findings)
    lines = []
    for f in findings:
        lines.append(f"{'ok' if f.ok else 'MISSING':<8}{f.part.ljust(width)}  {f.detail}")
        lines.append(f"{'':<8}{''.ljust(width)}  needed for: {f.needed_for}")
        if not f.ok and f.fix:
            lines.append(f"{'':<8}{''.ljust(width)}  install: {f.fix}")
    missing = [f.part for f in findings if not f.ok]
    lines.append("Everything is in place." if not missing else f"Missing: {', '.join(missing)}.")
    return "\n".join(lines)


def report_html(findings: list[Finding]) -> str:
    rows = "".join(
        f"<tr><td>{'✅' if f.ok else '⚠️'}</td><td><b>{html.escape(f.part)}</b></td><td>{html.escape(f.detail)}</td>"
        f"<td>{html.escape(f.needed_for)}</td><td><code>{'' if f.ok else html.escape(f.fix)}</code></td></tr>"
        for f in findings)
    return ("<table class='labkit-doctor'><tr><th></th><th>Part</th><th>Found</th><th>Needed for</th>"
            f"<th>Install</th></tr>{rows}</table>")


class DoctorReport:
    """The doctor's findings as a notebook display (HTML table, text fallback)."""

    def __init__(self, findings: list[Finding] | None = None):
        self.findings = findings if findings is not None else diagnose()

    def _repr_html_(self) -> str:
        return report_html(self.findings)

    def __repr__(self) -> str:
        return report_text(self.findings)

    def missing(self) -> list[str]:
        return [f.part for f in self.findings if not f.ok]

"""The server side of a plugin: copy it into the lab's plugin directory, register
it in the catalog with its SHA-256 and version, enable it at a mount, upgrade a
mount to a new version without downtime, and read the plugin's log lines.

Endpoints: ``PUT /v1/sys/plugins/catalog/:type/:name``, ``POST /v1/sys/mounts/:path``
(``sys/auth/:path`` for auth methods), ``POST /v1/sys/mounts/:path/tune``,
``PUT /v1/sys/plugins/reload/backend``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ..redact import redact
from ..services.supervisor import spawn
from .build import BuiltPlugin, file_sha256, require_static
from .errors import (ChecksumMismatch, NameClash, NotExecutable, OutsidePluginDir, PluginCrashed,
                     PluginError, UnknownMount, WrongPluginType)
from .source import KINDS, check_plugin_name

# go-plugin's handshake as the server performs it (the Vault SDK's magic cookie).
HANDSHAKE_ENV = {
    "VAULT_BACKEND_PLUGIN": "6669da05-b1c8-4f49-97d9-c8e5bed98e20",
    "PLUGIN_PROTOCOL_VERSIONS": "4,5",
    "VAULT_PLUGIN_AUTOMTLS_ENABLED": "true",
}


@dataclass(frozen=True)
class Registration:
    """A plugin in the server's catalog."""

    name: str
    kind: str
    version: str
    sha256: str
    command: str
    path: Path

    def __str__(self) -> str:
        return f"{self.kind}/{self.name} {self.version} -> {self.command} (sha256 {self.sha256[:16]}...)"


@dataclass(frozen=True)
class Mount:
    """A plugin enabled at a path."""

    path: str
    name: str
    kind: str
    version: str

    @property
    def api_prefix(self) -> str:
        """Where its routes live: ``PATH`` for secrets, ``auth/PATH`` for auth methods."""
        return f"auth/{self.path}" if self.kind == "auth" else self.path

    def __str__(self) -> str:
        return f"{self.kind} plugin {self.name} {self.version} at {self.api_prefix}/"


# Helpers --------------------------------------------------------------------

def _token(lab) -> dict:
    return {"X-Vault-Token": lab.credentials.root_token.reveal()}


def _call(lab, method: str, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 60)
    return lab.request(method, path, headers=_token(lab), **kwargs)


def _errors(resp: requests.Response) -> str:
    try:
        errs = resp.json().get("errors") or []
    except ValueError:
        errs = [resp.text]
    text = "; ".join(" ".join(str(e).split()) for e in errs) or f"HTTP {resp.status_code}"
    # go-plugin appends a long generic paragraph to a failed handshake; keep the first sentence.
    text = text.split(" This usually means")[0]
    text = re.sub(r"^\d+ errors? occurred: \* ", "", text)
    text = re.sub(r"(: )?\d+ errors? occurred: \* ", ": ", text)
    return redact(text)


def plugin_dir(lab) -> Path:
    if not getattr(lab, "plugin_dir", None):
        raise PluginError(f"Lab {lab.name!r} has no plugin directory.",
                          "Start the lab with VaultLab(name, plugin_dir=<lab folder>/plugins).")
    return Path(lab.plugin_dir).resolve()


def _kind(kind: str) -> str:
    kind = {"secrets": "secret", "credential": "auth"}.get(kind, kind)
    if kind not in KINDS:
        raise PluginError(f"Unknown plugin type {kind!r}.", "Use 'secret' (secrets engine) or 'auth' (auth method).")
    return kind


def catalog_entries(lab) -> list[dict]:
    """``GET /v1/sys/plugins/catalog``: every plugin, built-in or registered."""
    resp = _call(lab, "GET", "sys/plugins/catalog")
    resp.raise_for_status()
    return resp.json()["data"].get("detailed") or []


def catalog_entry(lab, kind: str, name: str, version: str = "") -> dict | None:
    """``GET /v1/sys/plugins/catalog/:type/:name?version=``."""
    resp = _call(lab, "GET", f"sys/plugins/catalog/{_kind(kind)}/{name}", params={"version": version})
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.json().get("data")


def mounts(lab, kind: str) -> dict[str, dict]:
    """Mounted secrets engines (``sys/mounts``) or auth methods (``sys/auth``), by path without slash."""
    resp = _call(lab, "GET", "sys/auth" if _kind(kind) == "auth" else "sys/mounts")
    resp.raise_for_status()
    data = resp.json().get("data") or resp.json()
    return {k.rstrip("/"): v for k, v in data.items() if isinstance(v, dict) and "type" in v}


def find_mount(lab, path: str, kind: str | None = None) -> Mount:
    """The plugin mounted at ``path``; UnknownMount lists what is mounted otherwise."""
    path = path.strip("/")
    if kind in (None, "auth") and path.startswith("auth/"):
        path, kind = path.removeprefix("auth/"), "auth"
    kinds = [_kind(kind)] if kind else ["secret", "auth"]
    seen = []
    for k in kinds:
        table = mounts(lab, k)
        if path in table:
            entry = table[path]
            version = entry.get("running_plugin_version") or entry.get("plugin_version") or ""
            return Mount(path, entry["type"], k, version)
        seen += [("auth/" if k == "auth" else "") + p for p in table]
    raise UnknownMount(f"Nothing is mounted at {path!r} on lab {lab.name!r}.",
                       f"Mounted paths: {', '.join(sorted(seen))}. Enable the plugin there first with "
                       "plugins.enable(lab, registration, mount).")


# Preflight ------------------------------------------------------------------

def preflight(lab, path: Path, timeout: float = 5.0) -> str | None:
    """Start the plugin as the server would (go-plugin handshake environment) and
    wait for its handshake line. None if it serves; what it printed if it exits."""
    log = lab.workspace.logs_dir / f"plugin-preflight-{Path(path).name}.log"
    log.unlink(missing_ok=True)
    proc = spawn(f"plugin preflight {Path(path).name}", [str(path)], log, lab.lifetime,
                 env=HANDSHAKE_ENV, cwd=lab.workspace.root)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if re.search(r"^\d+\|\d+\|(unix|tcp)\|", text, re.M):
                return None
            if not proc.alive():
                return redact(log.read_text(errors="replace").strip())
            time.sleep(0.03)
        return None
    finally:
        proc.stop(timeout=2)


# Register -------------------------------------------------------------------

def register(lab, plugin: BuiltPlugin | str | Path, *, kind: str | None = None, name: str | None = None,
             version: str | None = None, copy: bool = True) -> Registration:
    """Put the binary into the lab's plugin directory and register it in the catalog.

    ``plugin`` is a :class:`BuiltPlugin` (name, kind and version come with it) or the path
    of a binary. With ``copy`` the file is copied in as ``NAME-VERSION`` (so several
    versions live side by side); without it the file must already sit directly in the
    plugin directory. Checks first, so nothing is half-registered: static binary, exec
    bit, name clash with a built-in or with another binary under the same version,
    plugin type, and that the plugin starts (its stderr is shown if it does not)."""
    pdir = plugin_dir(lab)
    built = plugin if isinstance(plugin, BuiltPlugin) else None
    src = Path(built.path if built else plugin).expanduser()
    name = check_plugin_name(name or (built.name if built else src.name))
    version = version or (built.version if built else "")
    kind = _kind(kind or (built.kind if built else ""))
    if built and kind != built.kind:
        raise WrongPluginType(
            f"{name} is {'an auth method' if built.kind == 'auth' else 'a secrets engine'} "
            f"(its code declares logical.{'TypeCredential' if built.kind == 'auth' else 'TypeLogical'}), "
            f"but it is being registered as {'an auth method' if kind == 'auth' else 'a secrets engine'}.",
            f"Register it with kind={built.kind!r}; the server would refuse to mount it otherwise.")
    if not src.is_file():
        raise PluginError(f"No plugin binary at {src}.", "Build it first with plugins.build(source).")
    if copy:
        target = pdir / (f"{name}-{version}" if version else name)
    else:
        target = src.resolve()
        if target.parent != pdir:
            raise OutsidePluginDir(
                f"{src} is not directly inside the server's plugin directory {pdir}; the server only runs "
                "plugins from there (no subfolders, no parent references, no symlinks out).",
                f"Copy the binary into {pdir} (plugins.register(lab, built) does that), then register it.")
    require_static(src)
    if not copy and not os.access(target, os.X_OK):
        raise NotExecutable(f"{target.name} in the plugin directory has no exec bit (mode "
                            f"{oct(stat.S_IMODE(target.stat().st_mode))}): the server cannot start it.",
                            f"chmod 755 {target}, then register again.")
    sha = file_sha256(src)
    _check_name_clash(lab, kind, name, version, sha)
    fresh = copy and not target.exists()
    if copy and src.resolve() != target:
        tmp = pdir / f".{target.name}.partial"
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    body = {"sha256": sha, "command": target.name}
    if version:
        body["version"] = version
    resp = _call(lab, "PUT", f"sys/plugins/catalog/{kind}/{name}", json=body)
    if resp.status_code >= 400:
        error = _register_error(lab, resp, target, kind, name, version)
        if fresh:
            target.unlink(missing_ok=True)  # nothing half-registered
        raise error
    return Registration(name, kind, version, sha, target.name, target)


def _check_name_clash(lab, kind: str, name: str, version: str, sha: str) -> None:
    for entry in catalog_entries(lab):
        if entry.get("name") != name:
            continue
        if entry.get("builtin"):
            raise NameClash(f"{name!r} is the name of a built-in {entry.get('type')} plugin of this server.",
                            f"Give your plugin its own name, e.g. 'acme-{name}'.")
        if entry.get("type") == kind and entry.get("version", "") == version and entry.get("sha256") != sha:
            raise NameClash(f"{kind}/{name} {version or '(unversioned)'} is already registered with another "
                            "binary; replacing it would change what running mounts load.",
                            "Build and register the change as a new version (e.g. bump v0.1.0 to v0.2.0), "
                            "then upgrade the mount.")


def _register_error(lab, resp, target: Path, kind: str, name: str, version: str) -> PluginError:
    message = _errors(resp)
    if "checksums did not match" in message:
        return ChecksumMismatch(f"The server refused {name}: {message}.",
                                "Register again with the SHA-256 of the file now in the plugin directory.")
    if "permission denied" in message:
        return NotExecutable(f"The server cannot start {target.name}: {message}.", f"chmod 755 {target}")
    if "version mismatch" in message:
        return PluginError(f"The server refused {name}: {message}.",
                           "Build with the version you register (plugins.build(source, version=...)).")
    stderr = preflight(lab, target)
    if stderr is not None:
        return PluginCrashed(f"{name} exits at start, so the server cannot register it ({message}). "
                             f"It printed:\n{stderr}",
                             "Fix what it printed (run the binary's main() locally, check its config and "
                             "environment), rebuild and register again.", stderr=stderr)
    return PluginError(f"Registering {kind}/{name} {version} failed: {message}.",
                       f"Read the server log: plugins.logs(lab, {name!r}).")


# Enable ---------------------------------------------------------------------

def verify_file(lab, reg: Registration) -> None:
    """What the server checks at every launch: the file is there, executable, and
    has the registered SHA-256."""
    path = plugin_dir(lab) / reg.command
    if not path.is_file():
        raise PluginError(f"{reg.command} is missing from the plugin directory {path.parent}.",
                          "Register the plugin again (it copies the binary in).")
    if not os.access(path, os.X_OK):
        raise NotExecutable(f"{reg.command} in the plugin directory has no exec bit (mode "
                            f"{oct(stat.S_IMODE(path.stat().st_mode))}): the server cannot start it.",
                            f"chmod 755 {path}")
    actual = file_sha256(path)
    if actual != reg.sha256:
        raise ChecksumMismatch(
            f"{reg.command} changed after it was registered: its SHA-256 is {actual[:16]}..., the catalog "
            f"expects {reg.sha256[:16]}...; the server refuses to start it ('checksums did not match').",
            "Never rebuild over a registered file: build a new version and register it "
            "(plugins.register then plugins.upgrade), or register this file again.")


def enable(lab, reg: Registration, mount: str | None = None, description: str = "") -> Mount:
    """``POST /v1/sys/mounts/:path`` (or ``sys/auth/:path``) with the pinned version.
    Enabling the same plugin at the same path again returns the existing mount."""
    mount = (mount or reg.name).strip("/")
    existing = mounts(lab, reg.kind).get(mount)
    if existing is not None:
        if existing["type"] == reg.name:
            return find_mount(lab, mount, reg.kind)
        raise NameClash(f"{'auth/' if reg.kind == 'auth' else ''}{mount} is already used by "
                        f"{existing['type']!r}.", f"Enable {reg.name} at another path, e.g. mount='{reg.name}'.")
    verify_file(lab, reg)
    body = {"type": reg.name, "description": description or f"{reg.name} plugin (labkit)",
            "config": {"plugin_version": reg.version} if reg.version else {}}
    resp = _call(lab, "POST", f"sys/{'auth' if reg.kind == 'auth' else 'mounts'}/{mount}", json=body)
    if resp.status_code >= 400:
        raise _enable_error(lab, resp, reg, mount)
    return find_mount(lab, mount, reg.kind)


def _enable_error(lab, resp, reg: Registration, mount: str) -> PluginError:
    message = _errors(resp)
    if "checksums did not match" in message:
        return ChecksumMismatch(f"The server refused to start {reg.command}: {message}.",
                                "Register the file again, or build a new version and register that.")
    if "permission denied" in message:
        return NotExecutable(f"The server cannot start {reg.command}: {message}.",
                             f"chmod 755 {plugin_dir(lab) / reg.command}")
    if "not found in the catalog" in message:
        other = "secret" if reg.kind == "auth" else "auth"
        if catalog_entry(lab, other, reg.name, reg.version):
            return WrongPluginType(f"{reg.name} is registered as a {other} plugin, not {reg.kind}: {message}.",
                                   f"Enable it as {other}, or register it with kind={reg.kind!r}.")
        return PluginError(f"{message}.", "Register the plugin (with this version) before enabling it.")
    stderr = preflight(lab, plugin_dir(lab) / reg.command)
    if stderr is not None:
        return PluginCrashed(f"{reg.name} exits at start ({message}). It printed:\n{stderr}",
                             "Fix what it printed, rebuild, register and enable again.", stderr=stderr)
    return PluginError(f"Enabling {reg.name} at {mount} failed: {message}.",
                       f"Read the server log: plugins.logs(lab, {reg.name!r}).")


def disable(lab, mount: Mount) -> None:
    """``DELETE /v1/sys/mounts/:path`` (or ``sys/auth/:path``); revokes its leases."""
    resp = _call(lab, "DELETE", f"sys/{'auth' if mount.kind == 'auth' else 'mounts'}/{mount.path}")
    if resp.status_code >= 400:
        raise PluginError(f"Disabling {mount} failed: {_errors(resp)}.", "Read the server log.")


# Upgrade --------------------------------------------------------------------

@dataclass
class UpgradeResult:
    """A mount moved to a new version while a reader kept calling it."""

    mount: str
    old_version: str
    new_version: str
    seconds: float
    probe_requests: int
    probe_failures: int
    failure_samples: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.mount}: {self.old_version} -> {self.new_version} in {self.seconds:.2f} s; "
                f"{self.probe_requests} reads during the upgrade, {self.probe_failures} failed")


def upgrade(lab, mount: str | Mount, reg: Registration, probe_path: str | None = "info") -> UpgradeResult:
    """Pin ``reg.version`` on the mount (``tune plugin_version``) and reload it
    (``PUT sys/plugins/reload/backend``). A thread keeps reading ``probe_path`` under the
    mount during the upgrade and counts failed reads: the downtime evidence."""
    current = mount if isinstance(mount, Mount) else find_mount(lab, mount, reg.kind)
    if current.name != reg.name:
        raise NameClash(f"{current.api_prefix} runs {current.name!r}, not {reg.name!r}.",
                        "Upgrade the mount that runs this plugin, or enable it at a new path.")
    verify_file(lab, reg)
    stop = threading.Event()
    counts = {"n": 0, "fail": 0, "samples": []}
    probe_client = requests.Session()

    def probe():
        while not stop.is_set():
            try:
                r = probe_client.get(f"{lab.address}/v1/{current.api_prefix}/{probe_path}",
                                     headers=_token(lab), verify=lab._verify(), timeout=5)
                ok = r.status_code == 200
                detail = f"HTTP {r.status_code}: {_errors(r)}" if not ok else ""
            except requests.RequestException as exc:
                ok, detail = False, type(exc).__name__
            counts["n"] += 1
            if not ok:
                counts["fail"] += 1
                if len(counts["samples"]) < 3:
                    counts["samples"].append(detail)
            time.sleep(0.005)

    thread = threading.Thread(target=probe, daemon=True) if probe_path else None
    if thread:
        thread.start()
        time.sleep(0.05)
    began = time.perf_counter()
    try:
        tune = f"sys/{'auth' if current.kind == 'auth' else 'mounts'}/{current.path}/tune"
        resp = _call(lab, "POST", tune, json={"plugin_version": reg.version})
        if resp.status_code >= 400:
            raise PluginError(f"Pinning {reg.version} on {current.api_prefix} failed: {_errors(resp)}.",
                              "Register that version first (plugins.register).")
        prefix = "auth/" if current.kind == "auth" else ""
        resp = _call(lab, "PUT", "sys/plugins/reload/backend", json={"mounts": [f"{prefix}{current.path}/"]})
        if resp.status_code >= 400:
            raise PluginError(f"Reloading {current.api_prefix} failed: {_errors(resp)}.",
                              f"Read the server log: plugins.logs(lab, {reg.name!r}).")
        _wait_version(lab, current, reg.version)
        seconds = time.perf_counter() - began
        time.sleep(0.1)
    finally:
        stop.set()
        if thread:
            thread.join(timeout=5)
    return UpgradeResult(current.api_prefix, current.version, reg.version, seconds, counts["n"], counts["fail"],
                         counts["samples"])


def _wait_version(lab, mount: Mount, version: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if find_mount(lab, mount.path, mount.kind).version == version:
            return
        time.sleep(0.05)
    raise PluginError(f"{mount.api_prefix} still does not run {version} after {timeout:g} s.",
                      f"Read the server log: plugins.logs(lab, {mount.name!r}).")


# Logs -------------------------------------------------------------------------

def logs(lab, name: str, lines: int = 20) -> str:
    """The server log lines about plugin ``name`` (its own log output included), redacted."""
    try:
        text = lab.log_path.read_text(errors="replace")
    except OSError:
        return ""
    hits = [line for line in text.splitlines() if name in line]
    return redact("\n".join(hits[-lines:]))

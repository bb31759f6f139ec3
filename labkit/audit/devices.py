"""The one way to declare audit devices, on both server flavours.

* OpenBao 2.3.2+ refuses ``POST /v1/sys/audit/:path`` ("cannot enable audit device
  via API"): devices are declared in the server configuration. labkit keeps the lab's
  devices in ``audit-devices.json``, renders them into ``config/audit.hcl`` (from
  ``environments/server/audit-device.hcl.tmpl``) and sends SIGHUP; the server adds
  and removes devices to match.
* HashiCorp Vault (and OpenBao with ``unsafe_allow_api_audit_creation = true``)
  takes them through the API.

Either way the device is then listed by ``GET /v1/sys/audit``, which labkit waits for.
"""

from __future__ import annotations

import time

import requests
from dataclasses import dataclass, field

from ..errors import FeatureUnavailable, LabError
from ..server.config import hcl_str, render

STATE = "audit-devices.json"
FRAGMENT = "audit"
API_FRAGMENT = "audit-api"


@dataclass(frozen=True)
class AuditDevice:
    """An audit device: ``type`` (file, socket, http, syslog), mount ``path`` and options."""

    type: str
    path: str
    options: dict = field(default_factory=dict)
    description: str = ""

    @property
    def mount(self) -> str:
        return self.path.strip("/") + "/"

    def hcl(self) -> str:
        options = "\n".join(f"    {key} = {hcl_str(value)}" for key, value in self.options.items())
        return render("server/audit-device.hcl.tmpl", type=hcl_str(self.type), path=hcl_str(self.mount),
                      description=hcl_str(self.description), options=options)

    def record(self) -> dict:
        return {"type": self.type, "options": dict(self.options), "description": self.description}


def file_device(file_path, path: str = "file", **options) -> AuditDevice:
    """A file audit device writing JSON lines to ``file_path``."""
    return AuditDevice("file", path, {"file_path": str(file_path), **options}, "labkit file audit log")


def socket_device(address: str, path: str = "siem", socket_type: str = "tcp", **options) -> AuditDevice:
    """A socket audit device streaming JSON lines to ``address`` (host:port)."""
    return AuditDevice("socket", path, {"address": address, "socket_type": socket_type, **options},
                       "labkit socket audit stream")


def http_device(uri: str, path: str = "http", **options) -> AuditDevice:
    """OpenBao's http audit device: one POST per entry to ``uri``."""
    return AuditDevice("http", path, {"uri": uri, **options}, "labkit http audit receiver")


def _token_headers(lab) -> dict:
    return {"X-Vault-Token": lab.credentials.root_token.reveal()}


def enabled_devices(lab) -> dict:
    """``GET /v1/sys/audit``: what the server has enabled now, by mount path."""
    resp = lab.request("GET", "sys/audit", headers=_token_headers(lab))
    resp.raise_for_status()
    body = resp.json()
    return body.get("data", body)


def declared(lab) -> dict[str, AuditDevice]:
    """The devices labkit declared for this lab (config route)."""
    data = lab.workspace.read_json(STATE) or {}
    return {mount: AuditDevice(d["type"], mount, d.get("options", {}), d.get("description", ""))
            for mount, d in data.items()}


def method(lab) -> str:
    """``config`` (OpenBao: declared in the server config) or ``api`` (Vault, or an
    OpenBao lab whose config carries ``unsafe_allow_api_audit_creation``)."""
    if lab.capabilities.audit_by_api or (lab.config_dir / f"{API_FRAGMENT}.hcl").exists():
        return "api"
    return "config"


def allow_api_audit(lab, allow: bool = True) -> None:
    """On OpenBao, write (or remove) ``unsafe_allow_api_audit_creation = true`` as a
    config fragment. It is read at start: call before ``lab.start()`` or restart."""
    lab.workspace.ensure()
    lab.set_config_fragment(API_FRAGMENT, "# Lets sys/audit enable devices by API (labkit).\n"
                                          "unsafe_allow_api_audit_creation = true\n" if allow else None)


def _write_fragment(lab, devices: dict[str, AuditDevice]) -> None:
    lab.workspace.write_json(STATE, {m: d.record() for m, d in devices.items()})
    text = "\n".join(d.hcl() for d in devices.values())
    lab.set_config_fragment(FRAGMENT, text or None)


def _wait_listed(lab, mount: str, present: bool, timeout: float, since: int) -> None:
    # The server's log confirms too: while no device can write, even GET sys/audit
    # is refused (500), so the listing cannot be the only witness.
    marker = f"{'enabled' if present else 'disabled'} audit backend: path={mount}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in _log_since(lab, since):
            return
        try:
            if (mount in enabled_devices(lab)) == present:
                return
        except requests.RequestException:
            pass
        time.sleep(0.02)
    log = _log_since(lab, since)
    raise LabError(
        f"The server did not {'enable' if present else 'disable'} audit device {mount} after reloading "
        f"its config. Server log since the reload:\n{log or '(nothing)'}",
        "Read the error line above: a wrong option or an unreachable socket address is named there. "
        "Fix the device and enable it again.")


def _log_since(lab, offset: int) -> str:
    from ..redact import redact

    try:
        with open(lab.log_path, "rb") as fh:
            fh.seek(offset)
            return redact(fh.read().decode("utf-8", "replace").strip())
    except OSError:
        return ""


def _log_size(lab) -> int:
    try:
        return lab.log_path.stat().st_size
    except OSError:
        return 0


def enable(lab, device: AuditDevice, timeout: float = 10) -> AuditDevice:
    """Enable ``device`` the way this server takes it (see the module docstring)."""
    if device.type not in lab.capabilities.audit_devices:
        raise FeatureUnavailable(
            f"{lab.binary.product} {lab.binary.version_string} has no {device.type!r} audit device.",
            f"Use one of {', '.join(lab.capabilities.audit_devices)}.")
    if method(lab) == "api":
        resp = lab.request("PUT", f"sys/audit/{device.mount.rstrip('/')}", headers=_token_headers(lab),
                           json={"type": device.type, "options": device.options, "description": device.description})
        if resp.status_code >= 400:
            message = "; ".join(resp.json().get("errors") or []) if resp.content else resp.reason
            fix = ("Declare the device in the server config instead: labkit does that when the lab has no "
                   "audit-api fragment (allow_api_audit(lab, False))."
                   if "declarative" in message or "via API" in message else
                   "Check the device options; the message above names the problem.")
            raise LabError(f"Enabling audit device {device.mount} failed: {message}", fix)
        return device
    if device.type == "socket":
        _require_reachable(device)
    previous = declared(lab)
    devices = dict(previous)
    devices[device.mount] = AuditDevice(device.type, device.mount, device.options, device.description)
    since = _log_size(lab)
    _write_fragment(lab, devices)
    lab.reload()
    try:
        _wait_listed(lab, device.mount, True, timeout, since)
    except LabError:
        # Leave no broken stanza behind: at the next start the server would refuse to
        # unseal ("post-unseal setup failed") because of it.
        _write_fragment(lab, previous)
        lab.reload()
        raise
    return device


def _require_reachable(device: AuditDevice) -> None:
    """A socket device is tested when enabled (and at every server start): its
    receiver must be listening first."""
    import socket

    address = device.options.get("address", "")
    host, _, port = address.rpartition(":")
    if device.options.get("socket_type", "tcp") != "tcp" or not port.isdigit():
        return
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            pass
    except OSError as exc:
        raise LabError(f"Nothing listens on {address} for the socket audit device {device.mount} ({exc.strerror}).",
                       "Start the receiver first (siem = audit.AuditSink(lab, 'tcp').start()) and point the "
                       "device at siem.address.") from exc


def forget(lab) -> None:
    """Remove every declared device from the config without asking the server: for a
    lab that no longer starts because a declared device cannot be reached (a socket
    device whose SIEM is gone makes the server refuse to unseal). Then start it again."""
    lab.workspace.delete(STATE)
    lab.set_config_fragment(FRAGMENT, None)


def disable(lab, path: str, timeout: float = 10) -> None:
    """Disable the device at ``path``. Its HMAC salt is gone with it: re-enabling
    creates a new salt, so old hashes no longer match."""
    mount = path.strip("/") + "/"
    if method(lab) == "api":
        resp = lab.request("DELETE", f"sys/audit/{mount.rstrip('/')}", headers=_token_headers(lab))
        if resp.status_code >= 400:
            raise LabError(f"Disabling audit device {mount} failed: {resp.text.strip()}",
                           "List the devices with enabled_devices(lab).")
        return
    devices = declared(lab)
    if devices.pop(mount, None) is None:
        raise LabError(f"No audit device {mount} was declared for this lab.",
                       f"Declared: {', '.join(declared(lab)) or 'none'}.")
    since = _log_size(lab)
    _write_fragment(lab, devices)
    lab.reload()
    _wait_listed(lab, mount, False, timeout, since)


def disable_all(lab) -> None:
    for mount in list(enabled_devices(lab)):
        disable(lab, mount)


def audit_hash(lab, path: str, value) -> str:
    """``POST /v1/sys/audit-hash/:path``: the HMAC this device writes for ``value``."""
    text = value.reveal() if hasattr(value, "reveal") else str(value)
    resp = lab.request("POST", f"sys/audit-hash/{path.strip('/')}", headers=_token_headers(lab),
                       json={"input": text})
    if resp.status_code >= 400:
        raise LabError(f"sys/audit-hash/{path.strip('/')} failed: {resp.text.strip()}",
                       "Name an enabled audit device (enabled_devices(lab) lists them).")
    body = resp.json()
    return (body.get("data") or body)["hash"]

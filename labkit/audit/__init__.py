"""Audit devices room (notebook 03): one way to declare devices on OpenBao and Vault,
reading entries and HMACs, lab receivers for the socket and http devices, a live
widget, failure semantics and rotation."""

from .devices import (
    AuditDevice,
    allow_api_audit,
    audit_hash,
    declared,
    disable,
    disable_all,
    enable,
    enabled_devices,
    file_device,
    forget,
    http_device,
    method,
    socket_device,
)
from .log import AuditLog, find_value, hmac_fields, pair, read_entries, table
from .ops import NOT_AUDITED, Probe, Rotation, probe, rotate, unaudited_requests, wait_served
from .sink import AuditSink
from .stream import AuditStream

__all__ = [name for name in dir() if not name.startswith("_")]

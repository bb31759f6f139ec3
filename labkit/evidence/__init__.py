"""Certification evidence: run notebooks headless, pack and scan the bundle, verify it."""

from .catalog import discover, known_types, select
from .certify import CertifyResult, certify
from .verify import VerifyReport, verify

__all__ = ["CertifyResult", "VerifyReport", "certify", "discover", "known_types", "select", "verify"]

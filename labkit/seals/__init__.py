"""Auto-unseal (notebook 05): transit, KMIP and static seals, seal migration, the
failure modes a KMS vendor must handle, and a picture of the seal chain."""

from .chain import SealChain
from .kmip import LabKmipServer
from .migration import MigrationResult, StartOutcome, migrate_seal, reset_labs, try_start
from .static import static_key, static_stanza
from .transit import TransitUnsealer

__all__ = ["LabKmipServer", "MigrationResult", "SealChain", "StartOutcome", "TransitUnsealer", "migrate_seal",
           "reset_labs", "static_key", "static_stanza", "try_start"]

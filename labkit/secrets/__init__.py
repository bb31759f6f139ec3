"""Secrets engines room (notebook 02): KV v2, transit, PKI, database, leases.

Each helper wraps one engine mounted at a path of the learner's choice, names the
endpoint every method calls, turns the server's terse errors into :class:`LabError`
with a fix, and registers every secret it sees with the redactor.
"""

from .database import DynamicCredential, PostgresSecrets
from .display import Attempt, Table, attempt
from .engines import enable_engine, mounted_engines
from .kv import KVv2
from .leases import Leases
from .pki_engine import IssuedLeaf, PKIHierarchy
from .transit import Transit, key_versions_picture

__all__ = [
    "Attempt", "DynamicCredential", "IssuedLeaf", "KVv2", "Leases", "PKIHierarchy", "PostgresSecrets", "Table",
    "Transit", "attempt", "enable_engine", "key_versions_picture", "mounted_engines",
]

"""labkit: the library behind the Vault Integration Lab notebooks."""

from .errors import CheckFailed, LabError
from .lab import LabStatus, VaultLab, list_labs, stop_lab
from .server.binary import find_server_binary

__version__ = "0.1.0"

__all__ = ["CheckFailed", "LabError", "LabStatus", "VaultLab", "find_server_binary", "list_labs",
           "stop_lab", "__version__"]

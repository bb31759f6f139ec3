"""Finding the server binary, knowing what it can do, rendering its config."""

from .binary import Capabilities, ServerBinary, find_server_binary
from .config import render_server_config

__all__ = ["Capabilities", "ServerBinary", "find_server_binary", "render_server_config"]

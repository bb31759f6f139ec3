"""The static seal: a 32-byte AES-256-GCM key in a file of the lab folder (0600).

It unseals without any external service, so it protects nothing the lab folder does
not already protect; OpenBao offers it for chaining to a secret store you trust. The
lab shows it for completeness and as the fastest auto-unseal to compare against.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from ..errors import LabError
from ..server.config import hcl_str, render
from ..workspace import PRIVATE_FILE


def static_key(lab, key_id: str | None = None) -> tuple[str, Path]:
    """Create (once) the key file ``seal-static-<id>.key`` in the lab's config folder.
    Returns ``(key_id, path)``."""
    key_id = key_id or dt.date.today().strftime("%Y%m%d") + "-1"
    if not key_id.replace("-", "").replace("_", "").isalnum():
        raise LabError(f"{key_id!r} is not a usable key id.", "Use letters, digits, '-' and '_', e.g. '20250606-1'.")
    from .kmip import _require_seal

    _require_seal(lab, "static")
    lab.workspace.ensure()
    path = lab.workspace.config_dir / f"seal-static-{key_id}.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    return key_id, path


def static_stanza(key_id: str, key_path: Path, disabled: bool = False) -> str:
    """The ``seal "static"`` block naming the key by ``file://`` (never inline)."""
    path = Path(key_path)
    if not path.is_file() or path.stat().st_size != 32:
        raise LabError(f"{path} is not a 32-byte key file.", "Create it with labkit.seals.static_key(lab).")
    return render("seals/static.hcl.tmpl", key_id=hcl_str(key_id), key_uri=hcl_str(f"file://{path}"),
                  disabled=hcl_str(str(disabled).lower()))

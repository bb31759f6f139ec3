"""The one way to render configuration: templates kept in ``environments/`` are
filled with ``string.Template`` and written into the lab's private folder.

Values are quoted for HCL by :func:`hcl_str` (JSON escaping is valid HCL), so a path
with a quote or backslash can never break a config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from string import Template

from ..errors import LabError
from ..workspace import write_private


def environments_dir() -> Path:
    """``$LABKIT_ENVIRONMENTS`` or the ``environments/`` folder beside the package."""
    env = os.environ.get("LABKIT_ENVIRONMENTS")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "environments")
    for path in candidates:
        if (path / "server").is_dir():
            return path
    raise LabError(
        "The lab's environments/ folder (server config templates) was not found.",
        "Install labkit from its source checkout (`pip install -e .`) or set LABKIT_ENVIRONMENTS "
        "to the checkout's environments/ folder.",
    )


def hcl_str(value) -> str:
    """A value as an HCL string literal."""
    return json.dumps(str(value))


def render(template: str, **values) -> str:
    """Fill ``environments/<template>`` with ``values``; missing values are an error."""
    path = environments_dir() / template
    try:
        text = path.read_text()
    except OSError as exc:
        raise LabError(f"Config template {path} cannot be read: {exc}.",
                       "Restore it from the lab's git checkout (`git checkout environments/`).") from exc
    try:
        return Template(text).substitute(values)
    except KeyError as exc:
        raise LabError(f"Template {template} needs a value for {exc.args[0]}.",
                       "This is a labkit bug: please report it with the template name.") from exc


def render_server_config(*, binary, storage: str, api_port: int, cluster_port: int,
                         data_dir: Path | None = None, tls_cert: Path | None = None,
                         tls_key: Path | None = None, node_id: str = "node1",
                         plugin_dir: Path | None = None, log_level: str = "info",
                         extra: str = "", lab_name: str = "lab", storage_block: str | None = None) -> str:
    """Render the server config: storage ``inmem`` or ``raft``, a loopback TCP listener
    (TLS when a certificate is given), optional plugin directory and extra stanzas."""
    host = "127.0.0.1"
    scheme = "https" if tls_cert else "http"
    if tls_cert:
        listener = render("server/listener-tls.hcl.tmpl", address=hcl_str(f"{host}:{api_port}"),
                          cluster_address=hcl_str(f"{host}:{cluster_port}"),
                          cert=hcl_str(tls_cert), key=hcl_str(tls_key))
    else:
        listener = render("server/listener.hcl.tmpl", address=hcl_str(f"{host}:{api_port}"),
                          cluster_address=hcl_str(f"{host}:{cluster_port}"))
    if storage_block:
        pass
    elif storage == "inmem":
        storage_block = render("server/storage-inmem.hcl.tmpl")
    elif storage == "raft":
        storage_block = render("server/storage-raft.hcl.tmpl", path=hcl_str(data_dir), node_id=hcl_str(node_id))
    else:
        raise LabError(f"Storage {storage!r} is not one the lab renders here.", "Use 'inmem' or 'raft'.")
    # HashiCorp Vault wants mlock (root or CAP_IPC_LOCK) unless told otherwise; OpenBao
    # 2.7 removed mlock and rejects the field.
    flavour_lines = "disable_mlock = true" if binary.flavour == "vault" else ""
    return render(
        "server/server.hcl.tmpl",
        lab_name=lab_name,
        log_level=hcl_str(log_level),
        api_addr=hcl_str(f"{scheme}://{host}:{api_port}"),
        cluster_addr=hcl_str(f"https://{host}:{cluster_port}"),
        plugin_directory=f"plugin_directory = {hcl_str(plugin_dir)}" if plugin_dir else "",
        flavour_lines=flavour_lines,
        storage=storage_block,
        listener=listener,
        extra=extra,
    )


def write_config(path: Path, text: str) -> Path:
    return write_private(path, text)

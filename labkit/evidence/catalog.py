"""Which notebooks certify which integration type.

Notebooks are discovered by their two-digit filename prefix (``00`` .. ``07``) and
mapped to integration types by the small table below, so a notebook added later
(``03-audit-devices.ipynb``...) joins a certification run without any change here.
A notebook may also name its types itself in its metadata
(``{"labkit": {"integration_types": ["audit"]}}``), which wins over the table.

``08-certification.ipynb`` runs certifications, so it is never certified itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LabError

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
CERTIFIABLE = re.compile(r"^(0[0-7])-[A-Za-z0-9_.-]+\.ipynb$")
BASELINE = "00"  # the start notebook: the server itself works; every run includes it

# prefix -> integration types its notebook gives evidence for
PREFIX_TYPES: dict[str, tuple[str, ...]] = {
    "00": ("baseline",),
    "01": ("auth",),
    "02": ("secrets",),
    "03": ("audit",),
    "04": ("hsm",),
    "05": ("kms",),
    "06": ("storage",),
    # Auth, secrets and audit integrations ship as Go plugins: notebook 07 builds and tests one.
    "07": ("plugin", "auth", "secrets", "audit"),
}

TYPE_TITLES: dict[str, str] = {
    "baseline": "Lab server (baseline)",
    "auth": "Auth method",
    "secrets": "Secrets engine",
    "audit": "Audit device",
    "hsm": "HSM over PKCS#11",
    "kms": "Auto-unseal through an external KMS",
    "storage": "Storage backend",
    "plugin": "Go plugin development",
}

ALIASES: dict[str, str] = {
    "auth-method": "auth", "secrets-engine": "secrets", "secret": "secrets", "audit-device": "audit",
    "pkcs11": "hsm", "auto-unseal": "kms", "seal": "kms", "kmip": "kms", "storage-backend": "storage",
    "plugins": "plugin", "start": "baseline",
}

# A notebook that must wait for another one's result (none today: each runs in its own lab).
DEPENDS_ON: dict[str, tuple[str, ...]] = {}

# Certification parameters and the names a notebook's parameters cell may give them.
PARAMETER_NAMES: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "vendor_name"),
    "integration": ("integration", "integration_name"),
    "integration_types": ("integration_types", "integration_type"),
    "plugin_source": ("plugin_source", "plugin_source_dir", "plugin_src", "plugin_folder", "plugin_dir",
                      "source_dir"),
}


@dataclass(frozen=True)
class NotebookEntry:
    path: Path
    prefix: str
    types: tuple[str, ...]
    depends_on: tuple[str, ...] = field(default=())

    @property
    def stem(self) -> str:
        return self.path.stem


def discover(folder: Path | str | None = None) -> list[NotebookEntry]:
    """Every certifiable notebook in ``folder`` (the repository's notebooks/ by default)."""
    folder = Path(folder) if folder else NOTEBOOKS_DIR
    if not folder.is_dir():
        raise LabError(f"The notebooks folder {folder} does not exist.",
                       "Run from a checkout of the lab, or pass the folder holding 00-start-here.ipynb.")
    entries = []
    for path in sorted(folder.glob("*.ipynb")):
        match = CERTIFIABLE.match(path.name)
        if not match:
            continue
        prefix = match.group(1)
        types = PREFIX_TYPES.get(prefix, ())
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("labkit", {})
        except (OSError, ValueError):
            meta = {}
        if isinstance(meta, dict) and meta.get("integration_types"):
            types = tuple(meta["integration_types"])
        entries.append(NotebookEntry(path, prefix, tuple(types), DEPENDS_ON.get(prefix, ())))
    return entries


def known_types() -> list[str]:
    return list(TYPE_TITLES)


def normalise_types(types) -> list[str]:
    """``"auth, audit"`` or ``["auth"]`` -> canonical type names; an unknown one is an error."""
    if types is None or types == "":
        return []
    if isinstance(types, str):
        types = [t for t in re.split(r"[,\s]+", types) if t]
    out = []
    for raw in types:
        name = ALIASES.get(str(raw).strip().lower(), str(raw).strip().lower())
        if name == "all":
            out.append("all")
            continue
        if name not in TYPE_TITLES:
            raise LabError(
                f"Unknown integration type {raw!r}.",
                f"Choose from: {', '.join(known_types())} (or 'all'); "
                "e.g. `labkit certify --type auth --vendor Acme --integration acme-auth`.",
            )
        if name not in out:
            out.append(name)
    return out


def select(types, folder: Path | str | None = None, only: list[str] | None = None) -> list[NotebookEntry]:
    """The notebooks to run for ``types``: the baseline notebook plus each type's notebooks.

    ``only`` (prefixes or stems) narrows the choice further, e.g. ``["00"]``."""
    entries = discover(folder)
    wanted = normalise_types(types) or ["baseline"]
    if "all" in wanted:
        chosen = list(entries)
    else:
        chosen = [e for e in entries if e.prefix == BASELINE or set(e.types) & set(wanted)]
        missing = [t for t in wanted if t != "baseline" and not any(t in e.types for e in entries)]
        if missing:
            have = ", ".join(e.path.name for e in entries) or "none"
            raise LabError(
                f"No notebook for integration type(s) {', '.join(missing)} is present (notebooks here: {have}).",
                "Add the notebook for that type to notebooks/ (prefix "
                f"{', '.join(p for p, ts in PREFIX_TYPES.items() if set(ts) & set(missing))}), or choose another type.",
            )
    if only:
        keep = {str(o) for o in only}
        chosen = [e for e in chosen if e.prefix in keep or e.stem in keep or e.path.name in keep]
        if not chosen:
            raise LabError(f"None of the notebooks {sorted(keep)} is part of this run.",
                           "Name notebooks by prefix (00) or stem (00-start-here).")
    if not chosen:
        raise LabError("No notebook to certify.", "Check that notebooks/ holds 00-start-here.ipynb.")
    return chosen


def declared_parameters(path: Path) -> dict[str, str]:
    """Names (and annotated types) of the notebook's ``parameters`` cell, read with
    ``ast`` (papermill's own inspection imports far more and takes seconds)."""
    import ast

    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell.get("source", ""))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return {}
            names = {}
            for node in tree.body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    names[node.target.id] = ast.unparse(node.annotation)
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            names[target.id] = ""
            return names
    return {}


def parameters_for(entry: NotebookEntry, values: dict, extra: dict | None = None) -> dict:
    """The certification values this notebook declares, under its own names."""
    declared = declared_parameters(entry.path)
    params = {}
    for key, value in values.items():
        if value is None:
            continue
        for name in PARAMETER_NAMES.get(key, (key,)):
            if name in declared:
                params[name] = value
                break
    for key, value in (extra or {}).items():
        if key in declared:
            params[key] = _typed(value, declared[key])
    return params


def _typed(value, annotation: str):
    """A ``NAME=VALUE`` from the command line, as the type the parameters cell declares."""
    if not isinstance(value, str):
        return value
    try:
        if annotation == "bool":
            return value.strip().lower() in ("1", "true", "yes", "on")
        if annotation == "int":
            return int(value)
        if annotation == "float":
            return float(value)
    except ValueError:
        raise LabError(f"Parameter value {value!r} is not a {annotation}.",
                       f"Give a {annotation}, e.g. -p name=1.") from None
    return value

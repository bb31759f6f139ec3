"""Plugin sources: scaffold one from the lab's Go templates, open a vendor's own
folder, edit a file, and hash the source (the build cache key)."""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..server.config import environments_dir
from .errors import NoGoModule, PluginError

TEMPLATES = {"secrets": "secrets", "auth": "auth"}
TEMPLATE_NAMES = {"secrets": "example-secrets", "auth": "example-auth"}
TEMPLATE_MODULE = "example.com/labkit/{name}"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
KINDS = ("secret", "auth")
_SOURCE_SUFFIXES = (".go", ".mod", ".sum")
_SKIP_DIRS = {".git", "vendor", "node_modules", "bin", "dist"}


@dataclass(frozen=True)
class PluginSource:
    """A Go plugin's source folder, its catalog name and its kind (``secret`` or ``auth``)."""

    folder: Path
    name: str
    kind: str
    module: str

    def __str__(self) -> str:
        return f"{self.kind} plugin {self.name} ({self.folder})"

    def files(self) -> list[Path]:
        """The files the build depends on: Go sources, go.mod and go.sum."""
        out = []
        for path in sorted(self.folder.rglob("*")):
            if any(part in _SKIP_DIRS for part in path.relative_to(self.folder).parts[:-1]):
                continue
            if path.is_file() and path.name.endswith(_SOURCE_SUFFIXES):
                out.append(path)
        return out

    def digest(self) -> str:
        """SHA-256 over every source file's relative path and content."""
        h = hashlib.sha256()
        for path in self.files():
            h.update(str(path.relative_to(self.folder)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        return h.hexdigest()


def template_dir(template: str) -> Path:
    if template not in TEMPLATES:
        raise PluginError(f"There is no plugin template {template!r}.",
                          f"Choose one of: {', '.join(TEMPLATES)}.")
    return environments_dir() / "plugins" / TEMPLATES[template]


def check_plugin_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise PluginError(f"{name!r} is not a usable plugin name.",
                          "Use 2-63 lowercase letters, digits and '-', starting with a letter, e.g. 'acme-secrets'.")
    return name


def new(name: str, folder: str | Path, template: str = "secrets", module: str | None = None,
        exist_ok: bool = False, replace: bool = False) -> PluginSource:
    """Scaffold plugin ``name`` from a template (``secrets`` or ``auth``) into ``folder``.

    The template's name and Go module path are replaced by ``name`` and ``module``
    (default ``example.com/<name>``). ``exist_ok`` returns the folder as it is when it
    already holds this plugin; ``replace`` deletes the folder and scaffolds afresh (a
    notebook run again starts from the same source, so its builds hit the cache)."""
    check_plugin_name(name)
    src = template_dir(template)
    folder = Path(folder).expanduser()
    module = module or f"example.com/{name}"
    if replace and folder.is_dir() and (folder / "go.mod").is_file():
        shutil.rmtree(folder)
    if folder.exists() and any(folder.iterdir()):
        if exist_ok and (folder / "go.mod").is_file():
            return open_source(folder, name=name)
        raise PluginError(f"{folder} exists and is not empty.",
                          "Choose a new folder for the plugin, or remove the old one first.")
    old_name = TEMPLATE_NAMES[template]
    old_module = TEMPLATE_MODULE.format(name=old_name)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        target = folder / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".go", ".mod", ".md"):
            text = path.read_text().replace(old_module, module).replace(old_name, name)
            target.write_text(text)
        else:
            shutil.copy2(path, target)
    return open_source(folder, name=name)


def detect_kind(folder: Path) -> str | None:
    """``auth`` or ``secret`` from the backend type the Go code declares."""
    kinds = set()
    for path in folder.rglob("*.go"):
        if "vendor" in path.parts or path.name.endswith("_test.go"):
            continue
        text = path.read_text(errors="replace")
        if "logical.TypeCredential" in text:
            kinds.add("auth")
        if "logical.TypeLogical" in text:
            kinds.add("secret")
    return kinds.pop() if len(kinds) == 1 else None


def open_source(folder: str | Path, name: str | None = None, kind: str | None = None) -> PluginSource:
    """A plugin source folder (the lab's scaffold or a vendor's own); it must hold a
    go.mod. ``name`` defaults to the folder name, ``kind`` to what the code declares."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise PluginError(f"The plugin source folder {folder} does not exist.",
                          "Give the folder that holds the plugin's go.mod, or scaffold one with plugins.new().")
    gomod = folder / "go.mod"
    if not gomod.is_file():
        raise NoGoModule(f"{folder} has no go.mod: it is not a Go module.",
                         f"Point at the folder holding go.mod, or create one: cd {folder} && go mod init "
                         f"example.com/{folder.name} && go mod tidy.")
    match = re.search(r"^module\s+(\S+)", gomod.read_text(), re.M)
    module = match.group(1) if match else ""
    name = check_plugin_name(name or folder.name)
    kind = kind or detect_kind(folder)
    if kind not in KINDS:
        raise PluginError(f"Cannot tell whether {folder} is a secrets engine or an auth method.",
                          "Pass kind='secret' or kind='auth'.")
    return PluginSource(folder, name, kind, module)


def edit(source: PluginSource, relpath: str, old: str, new: str) -> Path:
    """Replace the one occurrence of ``old`` by ``new`` in ``relpath`` (a code change)."""
    path = source.folder / relpath
    if not path.is_file():
        raise PluginError(f"{relpath} is not a file of {source.folder}.", "Give a path relative to the source folder.")
    text = path.read_text()
    count = text.count(old)
    if count != 1:
        if new in text:
            return path  # already applied (a cell run twice)
        raise PluginError(f"{relpath} holds {count} copies of the text to replace, not one.",
                          "Quote a longer, unique piece of the file.")
    path.write_text(text.replace(old, new))
    return path

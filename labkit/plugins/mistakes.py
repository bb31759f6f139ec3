"""The classic plugin mistakes, each made for real against the lab server and
caught: the notebook shows the lab's message and its fix instead of crashing.

Every function cleans up what it registered, so the lab stays usable."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import LabError
from .build import BuiltPlugin, build
from .catalog import _call, enable, find_mount, plugin_dir, register
from .source import PluginSource, edit, new, open_source
from .views import MistakeShown

CRASH_LINE = 'os.Stderr.WriteString("fatal: cannot read license file /etc/acme/license.key: no such file or directory\\n"); os.Exit(3)'


def _attempt(title: str, action) -> MistakeShown:
    try:
        action()
    except LabError as exc:
        return MistakeShown(title, exc)
    return MistakeShown(title, None)


def _forget(lab, kind: str, name: str, version: str, path: Path | None = None) -> None:
    _call(lab, "DELETE", f"sys/plugins/catalog/{kind}/{name}", params={"version": version})
    if path is not None:
        path.unlink(missing_ok=True)


def checksum_mismatch(lab, built: BuiltPlugin) -> MistakeShown:
    """Register a binary, then change the file in the plugin directory (a rebuild in
    place), then enable it."""
    name = f"{built.name}-tampered"
    reg = register(lab, built, name=name)
    try:
        with open(reg.path, "ab") as fh:
            fh.write(b"\0rebuilt in place")
        return _attempt("Checksum mismatch: the file changed after registration",
                        lambda: enable(lab, reg, mount=name))
    finally:
        _forget(lab, reg.kind, name, reg.version, reg.path)


def missing_exec_bit(lab, built: BuiltPlugin) -> MistakeShown:
    """Copy the binary into the plugin directory without the exec bit, then register it."""
    name = f"{built.name}-noexec"
    target = plugin_dir(lab) / name
    shutil.copyfile(built.path, target)
    os.chmod(target, 0o644)
    try:
        return _attempt("Missing exec bit", lambda: register(lab, target, kind=built.kind, name=name,
                                                             version=built.version, copy=False))
    finally:
        _forget(lab, built.kind, name, built.version, target)


def outside_plugin_dir(lab, built: BuiltPlugin) -> MistakeShown:
    """Register the binary where the build left it, outside the plugin directory."""
    return _attempt("File outside the plugin directory",
                    lambda: register(lab, built.path, kind=built.kind, name=built.name, version=built.version,
                                     copy=False))


def wrong_plugin_type(lab, built: BuiltPlugin) -> MistakeShown:
    """Register a secrets engine as an auth method (or the other way round)."""
    other = "auth" if built.kind == "secret" else "secret"
    return _attempt(f"Wrong plugin type: a {built.kind} plugin registered as {other}",
                    lambda: register(lab, built, kind=other))


def dynamically_linked(lab, source: PluginSource, version: str = "v0.1.0") -> MistakeShown:
    """Build with cgo on (``CGO_ENABLED=1``): the binary then needs the host's glibc."""
    def build_and_register():
        # Without a C compiler the cgo build itself fails; that error is shown instead.
        dynamic = build(source, version=version, lab=lab, static=False)
        register(lab, dynamic, name=f"{source.name}-dynamic")
    return _attempt("Dynamically linked binary (CGO_ENABLED=1)", build_and_register)


def crash_at_start(lab, workdir: str | Path, version: str = "v0.1.0") -> MistakeShown:
    """The secrets template with a main() that exits at once with a message on stderr
    (a missing licence file), built, registered and enabled."""
    crashing = new("crash-demo", Path(workdir) / "crash-demo", template="secrets", exist_ok=True)
    edit(crashing, "main.go", "func main() {", "func main() {\n\t" + CRASH_LINE)
    built = build(crashing, version=version, lab=lab)
    reg = register(lab, built)
    try:
        return _attempt("Plugin crashing at start", lambda: enable(lab, reg))
    finally:
        _forget(lab, reg.kind, reg.name, reg.version, reg.path)


def no_go_module(folder: str | Path) -> MistakeShown:
    """Open a folder that holds no go.mod as a plugin source."""
    return _attempt("Folder without go.mod", lambda: open_source(folder))


def unknown_mount(lab, path: str = "no-such-mount") -> MistakeShown:
    """Look up a mount that does not exist."""
    return _attempt("Unknown mount", lambda: find_mount(lab, path))


def builtin_name_clash(lab, built: BuiltPlugin, name: str = "kv") -> MistakeShown:
    """Register a plugin under the name of a built-in plugin."""
    return _attempt(f"Name clash with the built-in {name!r}", lambda: register(lab, built, name=name))


def build_error(lab, workdir: str | Path, version: str = "v0.1.0") -> MistakeShown:
    """The secrets template with a typo in backend/path_info.go, built."""
    broken = new("typo-demo", Path(workdir) / "typo-demo", template="secrets", exist_ok=True)
    edit(broken, "backend/path_info.go", '"version": b.version,', '"version": b.verison,')
    return _attempt("Build error", lambda: build(broken, version=version, lab=lab))

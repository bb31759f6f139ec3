"""The classic plugin mistakes, each made for real against the lab server and
caught: the notebook shows the lab's message and its fix instead of crashing.

Every function cleans up what it registered, so the lab stays usable."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import LabError
from .build import BuiltPlugin, build
from .catalog import _call, enable, plugin_dir, register
from .source import PluginSource, open_source
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
    dynamic = build(source, version=version, lab=lab, static=False)
    return _attempt("Dynamically linked binary (CGO_ENABLED=1)",
                    lambda: register(lab, dynamic, name=f"{source.name}-dynamic"))


def crash_at_start(lab, source: PluginSource, workdir: str | Path, version: str = "v0.1.0") -> MistakeShown:
    """A copy of the plugin whose main() exits at once with a message on stderr
    (a missing licence file), built, registered and enabled."""
    copy = Path(workdir) / f"{source.name}-crash"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(source.folder, copy, ignore=shutil.ignore_patterns(".git", "bin"))
    main_go = copy / "main.go"
    text = main_go.read_text()
    if "func main() {" not in text or '"os"' not in text:
        raise LabError(f"{main_go} has no `func main() {{` importing os to add the crash to.",
                       "Run this demonstration on the lab's template (plugins.new).")
    main_go.write_text(text.replace("func main() {", "func main() {\n\t" + CRASH_LINE, 1))
    crashing = open_source(copy, name=f"{source.name}-crash", kind=source.kind)

    built = build(crashing, version=version, lab=lab)
    reg = register(lab, built)
    try:
        return _attempt("Plugin crashing at start", lambda: enable(lab, reg))
    finally:
        _forget(lab, reg.kind, reg.name, reg.version, reg.path)

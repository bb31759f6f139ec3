"""Building a plugin: Go from the machine, a static binary (``CGO_ENABLED=0``), and
a cache keyed on the source hash so an unchanged plugin is never rebuilt."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..redact import redact
from ..services.supervisor import Lifetime, spawn
from .errors import DynamicallyLinked, GoNotFound, PluginBuildError, PluginError
from .source import PluginSource
from ..workspace import file_sha256  # re-exported for catalog.py

GO_HINT = ("Install Go 1.25 or newer from https://go.dev/doc/install (Debian's golang package is too old), "
           "or set LABKIT_GO=/path/to/go.")
_ERROR_LINE = re.compile(r"^(?:\./)?(?P<file>[^\s:]+\.go):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.+)$", re.M)


def go_binary() -> Path:
    """The Go toolchain (see :func:`labkit.doctor.go_binary`), or a clear error."""
    from ..doctor import go_binary as find_go

    go = find_go()
    if go is None:
        raise GoNotFound("No Go toolchain was found.", GO_HINT)
    return go


def go_version(go: Path | None = None) -> str:
    go = go or go_binary()
    out = subprocess.run([str(go), "env", "GOVERSION"], capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


@dataclass(frozen=True)
class BuiltPlugin:
    """A built plugin binary, what it was built from, and its SHA-256."""

    path: Path
    name: str
    kind: str
    version: str
    sha256: str
    static: bool
    cached: bool
    seconds: float
    source_digest: str

    def __str__(self) -> str:
        how = "from cache" if self.cached else f"built in {self.seconds:.1f} s"
        return (f"{self.kind} plugin {self.name} {self.version} ({'static' if self.static else 'dynamic'}, "
                f"{how}) sha256 {self.sha256[:16]}... at {self.path}")




def elf_interpreter(path: Path) -> str | None:
    """The dynamic loader an ELF binary asks for (``PT_INTERP``), or None if static.
    Raises PluginError for a file that is not a 64-bit ELF executable."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if head[:4] != b"\x7fELF":
            raise PluginError(f"{path} is not an ELF executable (a script or a binary for another OS?).",
                              "Build the plugin for Linux: GOOS=linux CGO_ENABLED=0 go build.")
        if head[4] != 2:
            raise PluginError(f"{path} is a 32-bit binary.", "Build it for amd64 or arm64 (GOARCH).")
        endian = "<" if head[5] == 1 else ">"
        phoff, = struct.unpack_from(endian + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 0x36)
        for i in range(phnum):
            fh.seek(phoff + i * phentsize)
            p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack(endian + "IIQQQQ", fh.read(40))
            if p_type == 3:  # PT_INTERP
                fh.seek(p_offset)
                return fh.read(p_filesz).rstrip(b"\0").decode(errors="replace")
    return None


def require_static(path: Path) -> None:
    interp = elf_interpreter(path)
    if interp:
        raise DynamicallyLinked(
            f"{Path(path).name} is dynamically linked (it needs {interp} and the host's glibc): it fails to start "
            "in Alpine or scratch images and on servers with another libc.",
            "Build it static: CGO_ENABLED=0 go build (plugins.build(..., static=True), the default).")


def cache_root() -> Path:
    """``$LABKIT_PLUGIN_CACHE`` or ``~/.cache/labkit/plugin-builds``. Entries are keyed by
    source hash, version, Go version and link mode, so labs, tests and notebooks share
    them safely."""
    env = os.environ.get("LABKIT_PLUGIN_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "labkit" / "plugin-builds"


def build(source: PluginSource, version: str = "v0.1.0", *, lab=None, static: bool = True,
          timeout: float = 900) -> BuiltPlugin:
    """``go build`` the plugin with ``main.Version`` set to ``version``.

    Static (``CGO_ENABLED=0``) by default. The result is cached under
    :func:`cache_root` by source hash, version, Go version and link mode;
    an unchanged plugin comes back in milliseconds. The build output goes to the lab's
    logs (``plugin-build-NAME.log``) when a lab is given."""
    if not re.match(r"^v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$", version):
        raise PluginError(f"{version!r} is not a semantic version.", "Use a version like 'v0.1.0' or 'v1.2.0-rc1'.")
    began = time.perf_counter()
    go = go_binary()
    digest = source.digest()
    key = hashlib.sha256(f"{digest}|{version}|{static}|{go_version(go)}".encode()).hexdigest()[:20]
    out_dir = cache_root() / source.name / key
    out = out_dir / source.name
    if out.is_file():
        return BuiltPlugin(out, source.name, source.kind, version, file_sha256(out), static, True,
                           time.perf_counter() - began, digest)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_dir = lab.workspace.logs_dir if lab is not None else out_dir
    log_path = log_dir / f"plugin-build-{source.name}.log"
    tmp = out_dir / f".{source.name}.partial"
    argv = [str(go), "build", "-ldflags", f"-s -w -X main.Version={version}", "-o", str(tmp), "."]
    env = {"CGO_ENABLED": "0" if static else "1"}
    offset = log_path.stat().st_size if log_path.exists() else 0
    lifetime = lab.lifetime if lab is not None else Lifetime.EPHEMERAL
    proc = spawn(f"go build {source.name}", argv, log_path, lifetime, env=env, cwd=source.folder)
    deadline = time.monotonic() + timeout
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.alive():
        proc.stop()
        raise PluginError(f"go build of {source.name} did not finish within {timeout:g} s.",
                          "A first build downloads modules: check the network to the Go module proxy, then retry.")
    code = proc._popen.wait() if proc._popen is not None else proc.exit_code()
    proc.stop()
    with open(log_path, "rb") as fh:
        fh.seek(offset)
        output = redact(fh.read().decode(errors="replace"))
    if code != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise _build_error(source, output, log_path)
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)
    return BuiltPlugin(out, source.name, source.kind, version, file_sha256(out), static, False,
                       time.perf_counter() - began, digest)


def _build_error(source: PluginSource, output: str, log_path: Path) -> PluginBuildError:
    match = _ERROR_LINE.search(output)
    if match:
        file, line = match.group("file"), int(match.group("line"))
        where = f"{file}:{line}" + (f":{match.group('col')}" if match.group("col") else "")
        return PluginBuildError(
            f"go build of {source.name} failed at {where}: {match.group('msg')}",
            f"Fix line {line} of {source.folder / file} and build again (full output in {log_path}).",
            file=file, line=line, output=output)
    tail = "\n".join(output.strip().splitlines()[-8:])
    return PluginBuildError(f"go build of {source.name} failed:\n{tail}",
                            f"Read the output above (full output in {log_path}); a module download error "
                            "means the Go module proxy could not be reached.", output=output)

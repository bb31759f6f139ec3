"""Errors of the plugin room: each names what went wrong and the fix."""

from __future__ import annotations

from ..errors import LabError


class PluginError(LabError):
    """A plugin could not be scaffolded, built, registered, enabled or tested."""


class GoNotFound(PluginError):
    """No usable Go toolchain."""


class NoGoModule(PluginError):
    """The source folder holds no go.mod."""


class PluginBuildError(PluginError):
    """``go build`` failed; ``file`` and ``line`` point at the first error."""

    def __init__(self, problem: str, fix: str | None = None, file: str | None = None,
                 line: int | None = None, output: str = ""):
        super().__init__(problem, fix)
        self.file = file
        self.line = line
        self.output = output


class UnknownMount(PluginError):
    """No mount at that path."""


class NameClash(PluginError):
    """A plugin name or mount path is already taken by something else."""


class ChecksumMismatch(PluginError):
    """The file in the plugin directory is not the one the catalog names."""


class NotExecutable(PluginError):
    """The plugin file has no exec bit."""


class OutsidePluginDir(PluginError):
    """The plugin file is not directly inside the server's plugin directory."""


class WrongPluginType(PluginError):
    """A secrets engine registered as an auth method, or the other way round."""


class DynamicallyLinked(PluginError):
    """The binary needs a dynamic loader (glibc); it breaks in Alpine or scratch images."""


class PluginCrashed(PluginError):
    """The plugin process exited at start; ``stderr`` holds what it printed."""

    def __init__(self, problem: str, fix: str | None = None, stderr: str = ""):
        super().__init__(problem, fix)
        self.stderr = stderr

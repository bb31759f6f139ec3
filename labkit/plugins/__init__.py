"""Plugin development (notebook 07): scaffold a Go plugin from the lab's templates
(or open a vendor's own source), build it static with a cache, register it with
its SHA-256 and version, enable it, upgrade a mount without downtime, run its unit
and acceptance tests against the lab, and read its logs.

    from labkit import plugins
    src = plugins.new("acme-secrets", "~/work/acme-secrets")
    built = plugins.build(src, version="v0.1.0", lab=lab)
    reg = plugins.register(lab, built)
    mount = plugins.enable(lab, reg, "acme")
"""

from .build import BuiltPlugin, build, elf_interpreter, go_binary, go_version, require_static
from .catalog import (Mount, Registration, UpgradeResult, catalog_entry, disable, enable, find_mount, logs,
                      preflight, register, upgrade, verify_file)
from .errors import (ChecksumMismatch, DynamicallyLinked, GoNotFound, NameClash, NoGoModule, NotExecutable,
                     OutsidePluginDir, PluginBuildError, PluginCrashed, PluginError, UnknownMount,
                     WrongPluginType)
from .gotest import TestReport, run_tests
from .source import PluginSource, edit, new, open_source
from .tour import Tour, credential_tour, login_tour, run_cli
from . import mistakes
from .views import LatencyComparison, MistakeShown, latency_svg, measure_latency

test = run_tests


def lab_plugin_dir(name: str):
    """``<lab folder>/plugins``: where a lab called ``name`` keeps its plugin binaries
    (pass it as ``VaultLab(name, plugin_dir=...)``)."""
    from ..workspace import Workspace

    return Workspace(name).path("plugins")

__all__ = [
    "BuiltPlugin", "ChecksumMismatch", "DynamicallyLinked", "GoNotFound", "LatencyComparison", "MistakeShown",
    "Mount", "NameClash", "NoGoModule", "NotExecutable", "OutsidePluginDir", "PluginBuildError", "PluginCrashed",
    "PluginError", "PluginSource", "Registration", "TestReport", "UnknownMount", "UpgradeResult",
    "WrongPluginType", "build", "catalog_entry", "disable", "edit", "elf_interpreter", "enable", "find_mount",
    "Tour", "credential_tour", "login_tour", "run_cli", "go_binary", "go_version", "lab_plugin_dir", "latency_svg", "logs", "measure_latency", "new", "open_source", "preflight",
    "register", "require_static", "run_tests", "test", "upgrade", "verify_file",
]

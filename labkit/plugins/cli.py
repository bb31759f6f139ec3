"""``labkit plugin ...``: the command line over the same functions the notebook calls.

Wire it in labkit/cli.py as a subcommand that hands over the rest of the arguments:
``labkit plugin <new|build|register|enable|upgrade|test|logs> ...`` ->
``labkit.plugins.cli.main(argv: list[str]) -> int`` (0 on success, 1 after a LabError,
whose problem and fix are printed to stderr).

Commands work on a running lab found by name (``--lab``, default the current lab); the
lab must have been started with a plugin directory (``VaultLab(name, plugin_dir=...)``
or ``labkit plugin start NAME``).
"""

from __future__ import annotations

import argparse
import sys

from ..errors import LabError


def _lab(args):
    from ..lab import VaultLab, current_lab_name
    from ..workspace import Workspace

    name = args.lab or current_lab_name()
    if not name:
        raise LabError("No lab named and no current lab.", "Pass --lab NAME (`labkit ps` lists labs).")
    lab = VaultLab.attach(name, export_env=False)
    plugin_dir = Workspace(name).path("plugins")
    if lab.plugin_dir is None and plugin_dir.is_dir():
        lab.plugin_dir = plugin_dir
    return lab


def _source(args):
    from . import open_source

    return open_source(args.source, name=args.name, kind=args.kind)


def _cmd_start(args) -> int:
    from ..lab import VaultLab
    from . import lab_plugin_dir

    lab = VaultLab(args.lab_name, lifetime="persistent", plugin_dir=lab_plugin_dir(args.lab_name)).start()
    print(lab.status())
    print(f"plugin directory: {lab.plugin_dir}")
    return 0


def _cmd_new(args) -> int:
    from . import new

    src = new(args.name, args.folder, template=args.template, module=args.module)
    print(f"Scaffolded {src}")
    return 0


def _cmd_build(args) -> int:
    from . import build

    lab = _lab(args) if args.lab else None
    print(build(_source(args), version=args.version, lab=lab, static=not args.dynamic))
    return 0


def _register(args, lab):
    from . import build, register

    built = build(_source(args), version=args.version, lab=lab)
    return register(lab, built)


def _cmd_register(args) -> int:
    print(_register(args, _lab(args)))
    return 0


def _cmd_enable(args) -> int:
    from . import enable

    lab = _lab(args)
    print(enable(lab, _register(args, lab), args.mount))
    return 0


def _cmd_upgrade(args) -> int:
    from . import upgrade

    lab = _lab(args)
    print(upgrade(lab, args.mount, _register(args, lab), probe_path=args.probe or None))
    return 0


def _cmd_test(args) -> int:
    from . import run_tests

    lab = None if args.unit_only else _lab(args)
    report = run_tests(_source(args), lab=lab, mount=args.mount, acceptance=not args.unit_only)
    print(report.output if args.verbose else report)
    return 0 if report.passed else 1


def _cmd_logs(args) -> int:
    from . import logs

    print(logs(_lab(args), args.name, lines=args.lines))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit plugin", description="Develop a Go plugin against a lab server.")
    p.add_argument("--lab", help="lab name (default: the current lab)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("start", help="start a persistent lab with a plugin directory")
    s.add_argument("lab_name", nargs="?", default="plugins")
    s.set_defaults(func=_cmd_start)

    s = sub.add_parser("new", help="scaffold a plugin from a template")
    s.add_argument("name")
    s.add_argument("folder")
    s.add_argument("--template", choices=["secrets", "auth"], default="secrets")
    s.add_argument("--module", help="Go module path (default example.com/NAME)")
    s.set_defaults(func=_cmd_new)

    def source_args(s, version=True):
        s.add_argument("source", help="plugin source folder (holding go.mod)")
        s.add_argument("--name", help="catalog name (default: the folder name)")
        s.add_argument("--kind", choices=["secret", "auth"], help="default: read from the Go code")
        if version:
            s.add_argument("--version", default="v0.1.0")

    s = sub.add_parser("build", help="build static, cached by source hash")
    source_args(s)
    s.add_argument("--dynamic", action="store_true", help="CGO_ENABLED=1 (to see why not)")
    s.set_defaults(func=_cmd_build)

    s = sub.add_parser("register", help="build, copy into the plugin directory, register sha256 + version")
    source_args(s)
    s.set_defaults(func=_cmd_register)

    s = sub.add_parser("enable", help="build, register and enable at a mount")
    source_args(s)
    s.add_argument("--mount", help="mount path (default: the plugin name)")
    s.set_defaults(func=_cmd_enable)

    s = sub.add_parser("upgrade", help="build, register a new version, pin it on the mount and reload")
    source_args(s)
    s.add_argument("--mount", required=True)
    s.add_argument("--probe", default="info", help="GET path under the mount read during the upgrade ('' for none)")
    s.set_defaults(func=_cmd_upgrade)

    s = sub.add_parser("test", help="go test: unit, and acceptance against the lab (output kept in its logs)")
    source_args(s, version=False)
    s.add_argument("--mount", help="where the plugin is enabled (default: the plugin name)")
    s.add_argument("--unit-only", action="store_true")
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=_cmd_test)

    s = sub.add_parser("logs", help="server log lines about a plugin")
    s.add_argument("name")
    s.add_argument("-n", "--lines", type=int, default=40)
    s.set_defaults(func=_cmd_logs)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``labkit plugin``; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as exc:
        print(f"Error: {exc.problem}", file=sys.stderr)
        if exc.fix:
            print(f"Fix: {exc.fix}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

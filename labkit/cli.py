"""``labkit``: a thin command line over the same functions the notebooks call."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .errors import LabError

REPO = Path(__file__).resolve().parents[1]


def _cmd_ps(args) -> int:
    from .lab import list_labs

    labs = list_labs()
    if not labs:
        print("No labs.")
        return 0
    print(f"{'NAME':<16} {'STATE':<8} {'MODE':<8} {'LIFETIME':<11} {'PID':<8} {'ADDRESS':<28} SERVER")
    for lab in labs:
        print(f"{lab.name:<16} {'running' if lab.running else 'stopped':<8} {lab.mode or '-':<8} "
              f"{lab.lifetime or '-':<11} {lab.pid or '-':<8} {lab.address or '-':<28} {lab.product or '-'}")
    return 0


def _cmd_stop(args) -> int:
    from .lab import list_labs, stop_lab

    if not args.all and not args.name:
        raise LabError("Say which lab to stop.", "`labkit stop NAME` or `labkit stop --all` (`labkit ps` lists them).")
    names = [lab.name for lab in list_labs()] if args.all else [args.name]
    for name in names:
        stopped = stop_lab(name, purge=args.purge)
        print(f"{name}: {'stopped' if stopped else 'was not running'}{' and removed' if args.purge else ''}")
    return 0


def _cmd_start(args) -> int:
    from .lab import VaultLab

    lab = VaultLab(args.name, mode=args.mode, lifetime="persistent", tls=args.tls, port=args.port).start()
    print(lab.status())
    print(f'Point the CLI at it: eval "$(labkit env {lab.name})"')
    return 0


def _cmd_status(args) -> int:
    from .lab import VaultLab, current_lab_name

    name = args.name or current_lab_name()
    if not name:
        raise LabError("No lab named and no current lab.", "`labkit ps` lists labs; `labkit status NAME`.")
    print(VaultLab.attach(name, export_env=False).status())
    return 0


def _cmd_env(args) -> int:
    from .lab import current_lab_name
    from .workspace import Workspace

    name = args.name or current_lab_name()
    if not name:
        raise LabError("No lab named and no current lab.", "`labkit ps` lists labs; `labkit env NAME`.")
    path = Workspace(name).path("env.sh")
    if not path.exists():
        raise LabError(f"Lab {name!r} has no environment file (is it running?).", f"`labkit start {name}` first.")
    sys.stdout.write(path.read_text())
    return 0


def _cmd_doctor(args) -> int:
    from .doctor import DoctorReport

    report = DoctorReport()
    print(repr(report))
    return 0


def _cmd_lab(args) -> int:
    """Open JupyterLab on the start notebook, bound to loopback."""
    jupyter = Path(sys.executable).with_name("jupyter")
    argv = [str(jupyter) if jupyter.exists() else "jupyter", "lab", str(REPO / "notebooks" / "00-start-here.ipynb"),
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={REPO}"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    if args.no_browser:
        argv.append("--no-browser")
    argv += args.jupyter_args
    os.execvp(argv[0], argv)
    return 0  # not reached


def _cmd_test(args) -> int:
    """The whole suite: unit, integration, and every notebook under nbval."""
    argv = [sys.executable, "-m", "pytest", str(REPO / "tests"), "--nbval-lax", str(REPO / "notebooks"),
            "--nbval-sanitize-with", str(REPO / "tests" / "nbval-sanitize.cfg"),
            "--nbval-cell-timeout=600", "-p", "no:cacheprovider"] + args.pytest_args
    return subprocess.call(argv, cwd=REPO)


# Subcommands with parsers of their own, handed the rest of the command line.
DELEGATED = {
    "plugin": "develop a Go plugin: new, build, register, enable, upgrade, test, logs",
    "audit": "the audit entries of a lab, read from its folder",
    "hsm": "the PKCS#11 KMS plugin: what this machine supports, build it",
}


def _delegate(name: str, rest: list[str]) -> int:
    if name == "plugin":
        from .plugins.cli import main as plugin_main

        return plugin_main(rest)
    if name == "hsm":
        from .hsm.kms_plugin import main as hsm_main

        return hsm_main(rest)
    from .audit.cli import main as audit_main

    return audit_main(rest)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:
        try:
            return _delegate(argv[0], argv[1:]) or 0
        except LabError as exc:
            print(f"labkit: {exc}", file=sys.stderr)
            return 2
    parser = argparse.ArgumentParser(prog="labkit", description="Vault Integration Lab")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ps", help="list labs and whether their servers run").set_defaults(func=_cmd_ps)
    stop = sub.add_parser("stop", help="stop a lab's server")
    stop.add_argument("name", nargs="?")
    stop.add_argument("--all", action="store_true", help="stop every lab")
    stop.add_argument("--purge", action="store_true", help="also delete the lab folder (data, logs, keys)")
    stop.set_defaults(func=_cmd_stop)
    start = sub.add_parser("start", help="start (or re-attach to) a persistent lab")
    start.add_argument("name", nargs="?", default="lab")
    start.add_argument("--mode", choices=["dev", "durable"], default="dev")
    start.add_argument("--tls", action="store_true")
    start.add_argument("--port", type=int)
    start.set_defaults(func=_cmd_start)
    status = sub.add_parser("status", help="a lab's status")
    status.add_argument("name", nargs="?")
    status.set_defaults(func=_cmd_status)
    env = sub.add_parser("env", help='print VAULT_*/BAO_* exports: eval "$(labkit env NAME)"')
    env.add_argument("name", nargs="?")
    env.set_defaults(func=_cmd_env)
    sub.add_parser("doctor", help="what this machine has for each part of the lab").set_defaults(func=_cmd_doctor)
    lab = sub.add_parser("lab", help="open JupyterLab on the start notebook")
    lab.add_argument("--no-browser", action="store_true")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER)
    lab.set_defaults(func=_cmd_lab)
    from .evidence.cli import add_certify_arguments, add_verify_arguments, cmd_certify, cmd_verify

    certify = sub.add_parser("certify", help="run notebooks headless and pack a certification evidence bundle")
    add_certify_arguments(certify)
    certify.set_defaults(func=cmd_certify)
    verify = sub.add_parser("verify", help="check an evidence bundle: hashes, completeness, no secrets")
    add_verify_arguments(verify)
    verify.set_defaults(func=cmd_verify)
    for name, text in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)
    test = sub.add_parser("test", help="run the whole test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=_cmd_test)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except LabError as exc:
        print(f"labkit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Entry points of ``labkit certify`` and ``labkit verify``, for labkit/cli.py to wire:

    certify = sub.add_parser("certify", help="run notebooks headless and pack the evidence")
    add_certify_arguments(certify); certify.set_defaults(func=cmd_certify)
    verify = sub.add_parser("verify", help="check an evidence bundle")
    add_verify_arguments(verify); verify.set_defaults(func=cmd_verify)

Both return the exit status (0 all good, 1 failed); bad input raises LabError (the
CLI prints it and exits 2). ``main(argv)`` runs either one standalone:
``python -m labkit.evidence.cli certify ...``.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import LabError


def _parameter(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), value


def add_certify_arguments(parser: argparse.ArgumentParser) -> None:
    from .catalog import known_types

    parser.add_argument("--vendor", required=True, help="the vendor's name, e.g. Acme")
    parser.add_argument("--integration", required=True, help="the integration's name, e.g. acme-auth")
    parser.add_argument("--type", dest="types", action="append", default=[],
                        help=f"integration type(s), repeatable or comma-separated: {', '.join(known_types())}, all "
                             "(the baseline notebook 00 always runs)")
    parser.add_argument("--plugin-source", help="folder of the vendor's plugin source (go.mod), where there is one")
    parser.add_argument("--output", "-o", default="evidence", help="folder for the evidence (default ./evidence)")
    parser.add_argument("--notebook", dest="only", action="append",
                        help="run only this notebook (prefix 00 or stem), repeatable")
    parser.add_argument("--notebooks-dir", help="folder of the notebooks (default: the lab's notebooks/)")
    parser.add_argument("--jobs", "-j", type=int, help="notebooks at once (default: number of CPUs)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per notebook (default 900)")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    parser.add_argument("--param", "-p", action="append", type=_parameter, default=[], metavar="NAME=VALUE",
                        help="another parameter for notebooks that declare NAME")
    parser.add_argument("--keep-work", action="store_true", help="keep the private work folder (debugging)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def cmd_certify(args) -> int:
    from .certify import certify

    types = ",".join(args.types) if args.types else "baseline"
    result = certify(args.vendor, args.integration, types, output=args.output, plugin_source=args.plugin_source,
                     jobs=args.jobs, timeout=args.timeout, fail_fast=args.fail_fast, only=args.only,
                     notebooks_dir=args.notebooks_dir, parameters=dict(args.param),
                     progress=None if args.no_progress else "bar", keep_work=args.keep_work)
    print(result)
    return result.exit_code


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="the evidence folder or its .tar.gz")
    parser.add_argument("--quiet", "-q", action="store_true", help="do not print the summary")


def cmd_verify(args) -> int:
    from .verify import verify

    report = verify(args.bundle)
    if report.summary and not args.quiet:
        print(report.summary)
    print(report)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit")
    sub = parser.add_subparsers(dest="command", required=True)
    add_certify_arguments(sub.add_parser("certify"))
    add_verify_arguments(sub.add_parser("verify"))
    args = parser.parse_args(argv)
    try:
        return cmd_certify(args) if args.command == "certify" else cmd_verify(args)
    except LabError as exc:
        print(f"labkit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

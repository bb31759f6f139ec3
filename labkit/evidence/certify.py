"""``labkit certify``: run the notebooks of an integration type headless and pack the
evidence a vendor sends for review (see :mod:`labkit.evidence.bundle` for its layout)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import redact
from ..errors import LabError
from . import bundle, catalog, scan
from .runner import PASSED, NotebookResult, Runner


@dataclass
class CertifyResult:
    run_id: str
    folder: Path  # the evidence folder
    archive: Path | None
    results: list[NotebookResult]
    hits: list[scan.Hit] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def ok(self) -> bool:
        return self.all_passed and not self.hits

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        return (self.folder / "summary.md").read_text(encoding="utf-8")

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        lines = [f"Certification {self.run_id}: {'PASSED' if self.ok else 'FAILED'} in {self.seconds:.1f} s"]
        for r in self.results:
            lines.append(f"  {r.status.upper():<9} {r.stem:<28} {r.seconds:6.1f} s  {r.error_line()}")
        for hit in self.hits:
            lines.append(f"  SECRET    {hit}")
        lines.append(f"Evidence: {self.folder}")
        if self.archive:
            lines.append(f"Archive:  {self.archive}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .form import result_html

        return result_html(self)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:40] or "x"


def check_inputs(vendor: str, integration: str, plugin_source, output) -> tuple[Path | None, Path]:
    if not str(vendor or "").strip() or not str(integration or "").strip():
        raise LabError("Vendor and integration name are both needed.",
                       "e.g. `labkit certify --vendor Acme --integration acme-auth --type auth`.")
    plugin = None
    if plugin_source not in (None, ""):
        plugin = Path(plugin_source).expanduser().resolve()
        if not plugin.is_dir():
            raise LabError(f"The plugin source folder {plugin} does not exist or is not a folder.",
                           "Pass the folder holding your plugin's go.mod with --plugin-source, or leave it out "
                           "to certify without a plugin of your own.")
    out = Path(output).expanduser().resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".labkit-write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise LabError(f"The output folder {out} cannot be written: {exc.strerror or exc}.",
                       "Choose a folder you can write to with --output (e.g. --output ./evidence).") from exc
    return plugin, out


def bar_progress(total: int):
    """A tqdm progress bar: what runs, what passed, what failed."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="notebook", desc="certify", dynamic_ncols=True)

    def update(event: str, result: NotebookResult, results: list[NotebookResult]) -> None:
        if event in ("finished", "skipped"):
            bar.update(1)
            bar.write(f"{result.status.upper():<9} {result.stem} ({result.seconds:.1f} s) {result.error_line()}")
        running = [r.prefix for r in results if r.status == "not-run" and r.executed is not None]
        bar.set_postfix_str(f"running {','.join(running) or '-'} | passed {sum(r.passed for r in results)} | "
                            f"failed {sum(r.status not in (PASSED, 'not-run') for r in results)}")
        if all(r.status != "not-run" or r.executed is None for r in results) and bar.n >= total:
            bar.close()

    return update


def certify(vendor: str, integration: str, types="baseline", *, output="evidence", plugin_source=None,
            jobs: int | None = None, timeout: float = 900, fail_fast: bool = False, only=None,
            notebooks_dir=None, parameters: dict | None = None, progress: str | Callable | None = "bar",
            keep_work: bool = False) -> CertifyResult:
    """Run the notebooks for ``types`` and pack the evidence under ``output``.

    Bad input (unknown type, missing plugin folder, unwritable output) raises a
    :class:`LabError` before anything runs. A failing notebook does not stop the
    others (unless ``fail_fast``); its partial evidence is kept and marked."""
    began = time.monotonic()
    canonical = catalog.normalise_types(types) or ["baseline"]
    entries = catalog.select(canonical, notebooks_dir, only)
    plugin, out = check_inputs(vendor, integration, plugin_source, output)
    shown_types = sorted({t for e in entries for t in e.types} if "all" in canonical else set(canonical) | {"baseline"},
                         key=list(catalog.TYPE_TITLES).index)
    started = dt.datetime.now(dt.timezone.utc)
    run_id = f"{_slug(vendor)}-{_slug(integration)}-{started.strftime('%Y%m%dT%H%M%SZ')}"
    folder = out / run_id
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = out / f"{run_id}-{suffix}"
    run_id = folder.name
    work = bundle.ensure_private_dir(out / f".work-{run_id}")
    bundle.ensure_private_dir(folder)
    values = {"vendor": vendor, "integration": integration, "integration_types": ",".join(shown_types),
              "plugin_source": str(plugin) if plugin else None}
    jobs = jobs or max(1, os.cpu_count() or 1)
    callback = bar_progress(len(entries)) if progress == "bar" else (progress if callable(progress) else None)
    runner = Runner(entries, work, values, parameters, jobs=jobs, timeout=timeout, fail_fast=fail_fast,
                    progress=callback, cwd=Path(entries[0].path).parent)
    try:
        results = runner.run()
        # Load the run's secrets (never copied) so every copy below is redacted with them.
        secret_values = scan.credential_values([work])
        scan.register_values(secret_values)
        secret_values.update(redact.registered())
        result = _pack(run_id, folder, out, results, secret_values, runner, vendor, integration, shown_types,
                       started, began, jobs, plugin)
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)
    return result


def _pack(run_id, folder, out, results, secret_values, runner, vendor, integration, types, started, began,
          jobs, plugin) -> CertifyResult:
    nb_records = []
    all_checks: dict[str, list[dict]] = {}
    for r in results:
        rec = r.as_dict()
        rec.update({"ipynb": None, "html": None, "logs": [], "tests": [], "timings": {}})
        if r.executed and r.executed.exists():
            nb = bundle.copy_notebook(r.executed, folder / "notebooks" / f"{r.stem}.ipynb")
            if nb is not None:
                rec["ipynb"] = f"notebooks/{r.stem}.ipynb"
                rec["timings"] = bundle.notebook_timings(nb)
                problem = bundle.render_html(folder / rec["ipynb"], folder / "notebooks" / f"{r.stem}.html")
                rec["html"] = None if problem else f"notebooks/{r.stem}.html"
                if problem:
                    rec["html_error"] = redact.redact(problem)
        if r.log or r.home:
            rec["logs"] = bundle.collect_logs(r, folder / "logs" / r.stem, folder / "tests" / r.stem)
        checks = bundle.read_checks(r.checks_log)
        all_checks[r.stem] = checks
        rec["checks"] = {"total": len(checks), "passed": sum(1 for c in checks if c.get("passed")),
                         "titles": [redact.redact(c.get("title", "")) for c in checks]}
        nb_records.append(rec)
    environment = bundle.environment_manifest()
    total_checks = sum(len(c) for c in all_checks.values())
    complete = bool(results) and all(r.passed for r in results)
    finished = dt.datetime.now(dt.timezone.utc)
    run = {
        "format": "labkit-evidence/1", "run_id": run_id, "vendor": vendor, "integration": integration,
        "integration_types": types, "plugin_source": str(plugin) if plugin else None,
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - began, 2), "jobs": jobs, "timeout": runner.timeout,
        "fail_fast": runner.fail_fast, "complete": complete, "notebooks": nb_records,
        "checks": {"total": total_checks,
                   "passed": sum(1 for cs in all_checks.values() for c in cs if c.get("passed")),
                   "failed": sum(1 for cs in all_checks.values() for c in cs if not c.get("passed"))},
        "environment": environment, "archive_name": f"../{run_id}.tar.gz",
        # The scan runs after packing; the summary states what it will enforce.
        "scan": {"clean": True, "values": len(secret_values), "hits": []},
    }
    go_tests = bundle.go_test_results(folder)
    run["go_tests"] = {log: len(cases) for log, cases in go_tests.items()}
    bundle.write_text(folder / "junit.xml", bundle.junit_xml(results, all_checks, go_tests))
    bundle.write_text(folder / "environment.json", json.dumps(environment, indent=1) + "\n")
    bundle.write_text(folder / "run.json", json.dumps(run, indent=1, default=str) + "\n")
    markdown = bundle.summary_markdown(run)
    bundle.write_text(folder / "summary.md", markdown)
    bundle.write_text(folder / "summary.html", bundle.summary_html(markdown, run))
    if not complete:
        lines = ["PARTIAL EVIDENCE: not every notebook passed.", ""]
        lines += [f"{r.stem}: {r.status} {r.error_line()}" for r in results if not r.passed]
        bundle.write_text(folder / bundle.PARTIAL, "\n".join(lines) + "\n")
    bundle.write_manifest(folder, run_id)
    archive = bundle.pack(folder, out / f"{run_id}.tar.gz")
    hits = scan.scan_folder(folder, secret_values) + _scan_archive(archive, secret_values)
    result = CertifyResult(run_id, folder, archive, results, hits, time.monotonic() - began)
    if hits:
        # A bundle that carries a secret must not be sent: drop the archive, say where.
        archive.unlink(missing_ok=True)
        result.archive = None
        (folder / "SECRETS-FOUND.txt").write_text(
            "The secret scanner found credentials in this evidence; do not send it.\n"
            + "\n".join(str(h) for h in hits) + "\n", encoding="utf-8")
    else:
        digest = bundle.sha256(archive)
        (out / f"{run_id}.tar.gz.sha256").write_text(f"{digest}  {archive.name}\n", encoding="utf-8")
    return result


def _scan_archive(archive: Path, values: dict) -> list[scan.Hit]:
    import tarfile

    hits = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                data = tar.extractfile(member).read().decode("utf-8", errors="replace")
                hits += scan.scan_text(data, f"{archive.name}:{member.name}", values)
    return hits

"""Run notebooks headless with papermill, in parallel, each in its own ephemeral lab.

Every notebook runs as ``python -m papermill`` started through the supervisor (its
own session, log in the run folder, dies with us). Its environment gives it:

* ``LABKIT_HOME``: a lab home of its own under the run's work folder, so labs of
  parallel notebooks never share a folder, a port record or a name;
* ``LABKIT_LIFETIME=ephemeral``: every server it starts dies with its kernel;
* ``LABKIT_CHECKS_LOG``: :mod:`labkit.checks` appends each check cell there (JUnit);
* ``LABKIT_NOTEBOOK``: the notebook's name, written into each check record;
* ``IPYTHONDIR`` with a startup file that keeps the kernel's registered secrets
  current in a private file (see :mod:`labkit.evidence.capture`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psutil

from ..redact import redact
from ..services.supervisor import LabProcess, Lifetime, spawn, stop_processes
from ..workspace import PRIVATE_DIR, write_private
from . import capture
from .catalog import NotebookEntry, parameters_for

PASSED, FAILED, TIMEOUT, CANCELLED, NOT_RUN = "passed", "failed", "timeout", "cancelled", "not-run"


@dataclass
class NotebookResult:
    """What happened to one notebook of a run (safe to show: errors are redacted)."""

    stem: str
    prefix: str
    types: tuple[str, ...]
    source: Path
    status: str = NOT_RUN
    seconds: float = 0.0
    error: dict | None = None
    parameters: dict = field(default_factory=dict)
    executed: Path | None = None  # papermill's output notebook (raw, in the work folder)
    log: Path | None = None  # papermill's own log
    home: Path | None = None  # the notebook's LABKIT_HOME
    checks_log: Path | None = None
    capture: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def error_line(self) -> str:
        if not self.error:
            return ""
        where = f"cell {self.error['cell']}: " if self.error.get("cell") is not None else ""
        return f"{where}{self.error.get('ename', 'Error')}: {self.error.get('evalue', '')}".strip()

    def as_dict(self) -> dict:
        return {"notebook": self.stem, "prefix": self.prefix, "types": list(self.types), "status": self.status,
                "seconds": round(self.seconds, 2), "error": self.error, "parameters": self.parameters}


def _code_cells(executed: Path):
    """``(number, cell, first source line)`` for each code cell of an executed notebook,
    numbered as the learner sees them (the cell papermill injects is not counted)."""
    try:
        nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    number = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", []):
            number += 1
        source = "".join(cell.get("source", ""))
        first = next((line for line in source.splitlines() if line.strip()), "")
        yield number, cell, first


def notebook_error(executed: Path) -> dict | None:
    """The first failing cell of an executed notebook: its number, first source line,
    exception name and message."""
    for number, cell, first in _code_cells(executed):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        flagged = cell.get("metadata", {}).get("papermill", {}).get("exception")
        if errors or flagged:
            out = errors[0] if errors else {}
            evalue = str(out.get("evalue", "")).strip()
            return {"cell": number, "execution_count": cell.get("execution_count"),
                    "source": redact(first[:200]), "ename": out.get("ename", "Error"),
                    "evalue": redact(evalue.splitlines()[0] if evalue else "")[:500]}
    return None


def running_cell(executed: Path) -> dict | None:
    """The cell papermill had marked ``running`` when the notebook was stopped."""
    for number, cell, first in _code_cells(executed):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return {"cell": number, "source": redact(first[:200])}
    return None


def _log_error(log: Path) -> dict:
    try:
        lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    last = next((line for line in reversed(lines) if "Error" in line or "error" in line), lines[-1] if lines else "")
    return {"cell": None, "ename": "PapermillError", "evalue": redact(last.strip())[:500], "source": ""}


def _stop_tree(proc: LabProcess, grace: float = 5.0) -> None:
    """Stop papermill, its kernel and everything the kernel started (lab servers,
    side services, reapers): SIGTERM all, then SIGKILL what is left."""
    try:
        root = psutil.Process(proc.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        tree = []
    stop_processes(tree, timeout=grace)
    proc.stop(timeout=1)


class Runner:
    """Schedules notebooks: up to ``jobs`` at once, dependencies first, each with a timeout."""

    def __init__(self, entries: list[NotebookEntry], work: Path, values: dict, extra: dict | None = None,
                 jobs: int = 2, timeout: float = 900, fail_fast: bool = False,
                 progress: Callable[[str, NotebookResult, list[NotebookResult]], None] | None = None,
                 cwd: Path | None = None):
        self.entries = entries
        self.work = Path(work)
        self.values = values
        self.extra = extra or {}
        self.jobs = max(1, int(jobs))
        self.timeout = float(timeout)
        self.fail_fast = fail_fast
        self.progress = progress or (lambda event, result, results: None)
        self.cwd = cwd
        self.results = [NotebookResult(e.stem, e.prefix, e.types, e.path) for e in entries]

    def _prepare(self, entry: NotebookEntry, result: NotebookResult) -> tuple[list[str], dict]:
        base = self.work / entry.stem
        for sub in ("home", "ipython/profile_default/startup"):
            (base / sub).mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        os.chmod(base, PRIVATE_DIR)
        (base / "ipython/profile_default/startup/00-labkit-evidence.py").write_text(capture.STARTUP_FILE)
        values = dict(self.values)
        if isinstance(values.get("integration_types"), (list, tuple)):
            values["integration_types"] = ",".join(values["integration_types"])
        result.parameters = parameters_for(entry, values, self.extra)
        params_file = write_private(base / "parameters.json", json.dumps(result.parameters))
        result.executed = base / f"{entry.stem}.ipynb"
        result.log = base / "papermill.log"
        result.home = base / "home"
        result.checks_log = base / "checks.jsonl"
        result.capture = base / "secrets.json"
        env = {
            "LABKIT_HOME": str(result.home),
            "LABKIT_LIFETIME": "ephemeral",
            "LABKIT_CHECKS_LOG": str(result.checks_log),
            "LABKIT_NOTEBOOK": entry.stem,
            capture.ENV: str(result.capture),
            "IPYTHONDIR": str(base / "ipython"),
            "JPY_SESSION_NAME": "",
            "PYTHONUNBUFFERED": "1",
        }
        argv = [sys.executable, "-m", "labkit.evidence._papermill", "-k", "python3", "--no-progress-bar", "--log-output",
                "-f", str(params_file), "--cwd", str(self.cwd or entry.path.parent),
                str(entry.path), str(result.executed)]
        return argv, env

    def run(self) -> list[NotebookResult]:
        pending = list(range(len(self.entries)))
        running: dict[int, tuple[LabProcess, float]] = {}
        stopping = False
        try:
            while pending or running:
                for i, (proc, began) in list(running.items()):
                    result = self.results[i]
                    elapsed = time.monotonic() - began
                    if proc.alive() and elapsed > self.timeout:
                        _stop_tree(proc)
                        result.status = TIMEOUT
                        where = running_cell(result.executed) or {"cell": None, "source": ""}
                        result.error = {**where, "ename": "Timeout",
                                        "evalue": f"the notebook ran longer than {self.timeout:g} s"}
                    elif not proc.alive():
                        code = proc.exit_code()
                        proc.stop(timeout=1)
                        if code == 0:
                            result.status = PASSED
                        else:
                            result.status = FAILED
                            result.error = notebook_error(result.executed) or _log_error(result.log)
                    else:
                        continue
                    result.seconds = elapsed
                    del running[i]
                    self.progress("finished", result, self.results)
                    if not result.passed and self.fail_fast:
                        stopping = True
                if stopping:
                    for i, (proc, began) in list(running.items()):
                        _stop_tree(proc)
                        self.results[i].status = CANCELLED
                        self.results[i].seconds = time.monotonic() - began
                        self.results[i].error = {"cell": None, "ename": "Cancelled", "source": "",
                                                 "evalue": "stopped by --fail-fast after another notebook failed"}
                        del running[i]
                        self.progress("finished", self.results[i], self.results)
                    for i in pending:
                        self.progress("skipped", self.results[i], self.results)
                    pending = []
                    break
                for i in list(pending):
                    if len(running) >= self.jobs:
                        break
                    entry = self.entries[i]
                    done = {r.prefix for r in self.results if r.status != NOT_RUN}
                    running_prefixes = {self.results[j].prefix for j in running}
                    if any(d in running_prefixes or (d not in done and any(e.prefix == d for e in self.entries))
                           for d in entry.depends_on):
                        continue
                    argv, env = self._prepare(entry, self.results[i])
                    proc = spawn(f"papermill-{entry.prefix}", argv, self.results[i].log, Lifetime.EPHEMERAL,
                                 env=env, cwd=self.cwd or entry.path.parent)
                    running[i] = (proc, time.monotonic())
                    pending.remove(i)
                    self.progress("started", self.results[i], self.results)
                time.sleep(0.1)
        finally:
            for proc, _ in running.values():
                _stop_tree(proc)
        return self.results

"""Check cells: a learner's exercise ends in a checklist that says what is right or
wrong, and how to fix it.

In a notebook the result is shown as a table (HTML, with a text fallback); if any item
failed, :class:`~labkit.errors.CheckFailed` is raised after the table is shown, so a
headless run (papermill, nbval, ``labkit certify``) fails on that cell. Every result is
also appended as one JSON line to ``$LABKIT_CHECKS_LOG`` when that is set, which is
how certification turns check cells into JUnit records.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import time
from dataclasses import dataclass, field

from .errors import CheckFailed
from .redact import ipython_shell, redact


@dataclass
class CheckItem:
    what: str
    passed: bool
    fix: str = ""
    detail: str = ""


@dataclass
class Checklist:
    """A named list of expectations, shown and recorded by :meth:`done`."""

    title: str
    items: list[CheckItem] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def expect(self, condition, what: str, fix: str = "", detail: str = "") -> bool:
        """Record ``what`` as passed when ``condition`` is truthy; ``fix`` says what to do if not."""
        passed = bool(condition)
        self.items.append(CheckItem(redact(what), passed, redact(fix), redact(str(detail))))
        return passed

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(item.passed for item in self.items)

    def failures(self) -> list[CheckItem]:
        return [item for item in self.items if not item.passed]

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'✅' if i.passed else '❌'}</td><td>{html.escape(i.what)}</td>"
            f"<td>{'' if i.passed else html.escape(i.fix)}"
            f"{('<br><small>' + html.escape(i.detail) + '</small>') if i.detail and not i.passed else ''}</td></tr>"
            for i in self.items)
        verdict = ("<b style='color:#1a7f37'>All checks passed.</b>" if self.passed else
                   f"<b style='color:#cf222e'>{len(self.failures())} of {len(self.items)} checks failed.</b>")
        return (f"<div class='labkit-check' data-passed='{str(self.passed).lower()}'>"
                f"<b>Check: {html.escape(self.title)}</b><table>{rows}</table>{verdict}</div>")

    def __str__(self) -> str:
        lines = [f"Check: {self.title}"]
        for i in self.items:
            lines.append(f"  [{'PASS' if i.passed else 'FAIL'}] {i.what}")
            if not i.passed and i.fix:
                lines.append(f"         fix: {i.fix}")
            if not i.passed and i.detail:
                lines.append(f"         seen: {i.detail}")
        lines.append("All checks passed." if self.passed else
                     f"{len(self.failures())} of {len(self.items)} checks failed.")
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        return {"text/plain": str(self), "text/html": self._repr_html_()}

    def record(self) -> None:
        path = os.environ.get("LABKIT_CHECKS_LOG")
        if not path:
            return
        entry = {
            "title": self.title, "passed": self.passed,
            "seconds": round(time.perf_counter() - self.started, 3),
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "notebook": os.environ.get("LABKIT_NOTEBOOK", ""),
            "items": [i.__dict__ for i in self.items],
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def done(self) -> None:
        """Show the result, record it, and raise :class:`CheckFailed` if anything failed.

        Returns None so a check as a cell's last line is shown once, not twice."""
        if not self.items:
            self.expect(False, "the check has at least one expectation", "This is a bug in the notebook.")
        self.record()
        _show(self)
        if not self.passed:
            names = "; ".join(i.what for i in self.failures())
            raise CheckFailed(f"{self.title}: {names}", self.failures()[0].fix or None)


def _show(obj) -> None:
    if ipython_shell() is None:
        print(obj)
    else:
        from IPython.display import display

        display(obj)


def check(title: str, *expectations: tuple) -> None:
    """One-shot form: ``check("KV works", (value == 1, "value reads back", "write it first"))``."""
    checklist = Checklist(title)
    for expectation in expectations:
        checklist.expect(*expectation)
    checklist.done()

"""A small table that shows as HTML in JupyterLab and as text in headless runs;
every cell passes the redactor."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from ..redact import redact


class Table:
    """Rows under column headers, with an optional title."""

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence], title: str = ""):
        self.columns = list(columns)
        self.rows = [[redact("" if v is None else str(v)) for v in row] for row in rows]
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left;padding:2px 10px'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='padding:2px 10px'><code>{html.escape(v)}</code></td>"
                                        for v in row) + "</tr>" for row in self.rows)
        title = f"<b>{html.escape(self.title)}</b>" if self.title else ""
        return f"<div class='labkit-table'>{title}<table><tr>{head}</tr>{body}</table></div>"

    def __str__(self) -> str:
        widths = [max([len(c)] + [len(r[i]) for r in self.rows]) for i, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in self.rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_mimebundle_(self, **kwargs):
        return {"text/plain": str(self), "text/html": self._repr_html_()}


class Attempt:
    """The outcome of a call that may be refused, for showing an error in a cell
    without stopping the notebook: ``attempt(kv.put, "x", {...}, cas=1)``."""

    def __init__(self, value=None, error: BaseException | None = None):
        self.value = value
        self.error = error

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str:
        return redact(str(self.error)) if self.error is not None else ""

    def __str__(self) -> str:
        if self.ok:
            return f"succeeded: {redact(repr(self.value))}"
        return f"refused ({type(self.error).__name__}): {self.message}"

    __repr__ = __str__

    def _repr_mimebundle_(self, **kwargs):
        colour = "#1a7f37" if self.ok else "#cf222e"
        body = html.escape(str(self))
        return {"text/plain": str(self),
                "text/html": f"<pre style='color:{colour};white-space:pre-wrap'>{body}</pre>"}


def attempt(call, *args, **kwargs) -> Attempt:
    """Run ``call(*args, **kwargs)``; keep its result or the error it raised."""
    try:
        return Attempt(call(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the point is to show any refusal
        return Attempt(error=exc)

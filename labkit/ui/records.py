"""Safe tables for records the auth and audit rooms show: every value passes the
redactor, HTML for JupyterLab and nbconvert, plain text for headless runs."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from ..redact import redact


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return redact(str(value))


def records_html(rows: Sequence[Mapping], columns: Sequence[str] | None = None, title: str = "") -> str:
    columns = list(columns or (rows[0].keys() if rows else []))
    head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    caption = f"<b>{html.escape(title)}</b>" if title else ""
    return f"<div class='labkit-records'>{caption}<table><tr>{head}</tr>{body}</table></div>"


def records_text(rows: Sequence[Mapping], columns: Sequence[str] | None = None, title: str = "") -> str:
    columns = list(columns or (rows[0].keys() if rows else []))
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i][:60]) for row in cells]) for i, c in enumerate(columns)]
    lines = [title] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    lines += ["  ".join(v[:60].ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


class Records:
    """A list of dict rows shown as a table (redacted)."""

    def __init__(self, rows: Sequence[Mapping], columns: Sequence[str] | None = None, title: str = ""):
        self.rows = list(rows)
        self.columns = list(columns) if columns else None
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def _repr_html_(self) -> str:
        return records_html(self.rows, self.columns, self.title)

    def __repr__(self) -> str:
        return records_text(self.rows, self.columns, self.title)


class Fields(Records):
    """One record shown as a two-column field/value table."""

    def __init__(self, data: Mapping, title: str = ""):
        self.data = dict(data)
        super().__init__([{"field": k, "value": v} for k, v in self.data.items()], ["field", "value"], title)

    def __getitem__(self, key):
        return self.data[key]

    def get(self, key, default=None):
        return self.data.get(key, default)

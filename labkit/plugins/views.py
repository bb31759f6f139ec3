"""Displays for the plugin notebook: a caught mistake with its fix, and the
latency comparison of a plugin read against a built-in KV read (SVG, no
plotting library needed, with a text fallback)."""

from __future__ import annotations

import html
import statistics
import time
from dataclasses import dataclass

import requests

from ..errors import LabError
from ..redact import redact


@dataclass
class MistakeShown:
    """A classic mistake, made for real, and the lab's message about it."""

    title: str
    error: LabError | None

    @property
    def caught(self) -> bool:
        return self.error is not None

    def __repr__(self) -> str:
        if self.error is None:
            return f"{self.title}: no error was raised (unexpected)"
        return (f"{self.title}\n  {type(self.error).__name__}: {redact(self.error.problem)}\n"
                f"  Fix: {redact(self.error.fix or '')}")

    def _repr_html_(self) -> str:
        if self.error is None:
            return f"<p><b>{html.escape(self.title)}</b>: no error was raised (unexpected)</p>"
        problem = html.escape(redact(self.error.problem)).replace("\n", "<br>")
        return (f"<div style='border-left:4px solid #c0392b;padding:4px 10px;margin:4px 0'>"
                f"<b>{html.escape(self.title)}</b> &middot; <code>{type(self.error).__name__}</code><br>"
                f"{problem}<br><b>Fix:</b> {html.escape(redact(self.error.fix or ''))}</div>")


@dataclass
class LatencyComparison:
    """Latencies (ms) of GET requests to a plugin path and to a KV read."""

    plugin_path: str
    kv_path: str
    plugin_ms: list[float]
    kv_ms: list[float]

    @property
    def plugin_median(self) -> float:
        return statistics.median(self.plugin_ms)

    @property
    def kv_median(self) -> float:
        return statistics.median(self.kv_ms)

    @property
    def ratio(self) -> float:
        return self.plugin_median / self.kv_median

    def __repr__(self) -> str:
        return (f"plugin read {self.plugin_path}: median {self.plugin_median:.2f} ms; built-in KV read "
                f"{self.kv_path}: median {self.kv_median:.2f} ms; ratio {self.ratio:.2f} "
                f"({len(self.plugin_ms)} requests each)")

    def _repr_html_(self) -> str:
        return latency_svg(self) + f"<p>{html.escape(repr(self))}</p>"


def measure_latency(lab, plugin_path: str, kv_path: str = "secret/data/labkit-latency", requests_each: int = 200,
                    warmup: int = 20) -> LatencyComparison:
    """Alternate GET ``/v1/plugin_path`` and GET ``/v1/kv_path`` on one keep-alive
    connection and record each round trip. A KV v2 secret is written at ``kv_path``
    first when it does not exist."""
    if kv_path.startswith("secret/data/"):
        lab.client.secrets.kv.v2.create_or_update_secret(path=kv_path.removeprefix("secret/data/"),
                                                         secret={"value": "latency probe"})
    session = requests.Session()
    headers = {"X-Vault-Token": lab.credentials.root_token.reveal()}
    verify = lab._verify()

    def once(path: str) -> float:
        t = time.perf_counter()
        r = session.get(f"{lab.address}/v1/{path}", headers=headers, verify=verify, timeout=10)
        elapsed = (time.perf_counter() - t) * 1000
        if r.status_code != 200:
            raise LabError(f"GET {path} answered HTTP {r.status_code}: {redact(r.text[:200])}",
                           "Check the path (the plugin must be enabled, the KV secret written).")
        return elapsed

    for _ in range(warmup):
        once(plugin_path), once(kv_path)
    plugin_ms, kv_ms = [], []
    for _ in range(requests_each):
        plugin_ms.append(once(plugin_path))
        kv_ms.append(once(kv_path))
    return LatencyComparison(plugin_path, kv_path, plugin_ms, kv_ms)


def latency_svg(result: LatencyComparison, width: int = 560) -> str:
    """Two horizontal box plots (p10-p90 whiskers, quartile box, median line)."""
    rows = [("plugin " + result.plugin_path, result.plugin_ms, "#2e86c1"),
            ("built-in KV " + result.kv_path, result.kv_ms, "#7f8c8d")]

    def q(data, p):
        data = sorted(data)
        k = (len(data) - 1) * p
        lo = int(k)
        hi = min(lo + 1, len(data) - 1)
        return data[lo] + (data[hi] - data[lo]) * (k - lo)

    top = max(q(d, 0.9) for _, d, _ in rows) * 1.15 or 1.0
    left, right, row_h = 10, 20, 54
    scale = (width - left - right) / top
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{row_h * 2 + 40}' "
             "font-family='sans-serif' font-size='12'>"]
    for i, (label, data, colour) in enumerate(rows):
        y = 18 + i * row_h
        p10, p25, p50, p75, p90 = (q(data, p) for p in (0.1, 0.25, 0.5, 0.75, 0.9))
        x = lambda v: left + v * scale  # noqa: E731
        parts.append(f"<text x='{left}' y='{y}'>{html.escape(label)} - median {p50:.2f} ms</text>")
        cy = y + 18
        parts.append(f"<line x1='{x(p10):.1f}' x2='{x(p90):.1f}' y1='{cy}' y2='{cy}' stroke='{colour}'/>")
        parts.append(f"<rect x='{x(p25):.1f}' y='{cy - 9}' width='{max(x(p75) - x(p25), 1):.1f}' height='18' "
                     f"fill='{colour}' fill-opacity='0.35' stroke='{colour}'/>")
        parts.append(f"<line x1='{x(p50):.1f}' x2='{x(p50):.1f}' y1='{cy - 11}' y2='{cy + 11}' stroke='{colour}' "
                     "stroke-width='3'/>")
    axis_y = row_h * 2 + 22
    parts.append(f"<line x1='{left}' x2='{width - right}' y1='{axis_y}' y2='{axis_y}' stroke='#444'/>")
    for k in range(5):
        v = top * k / 4
        parts.append(f"<text x='{left + v * scale:.1f}' y='{axis_y + 14}' text-anchor='middle'>{v:.1f} ms</text>")
    parts.append("</svg>")
    return "".join(parts)

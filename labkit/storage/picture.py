"""The cluster picture: nodes, leader, term and commit index drawn from live status.

``cluster_svg(status)`` is plain SVG inside HTML (renders in JupyterLab, nbconvert and
evidence bundles); ``ClusterView`` is a widget with a Refresh button whose static
fallback is that same drawing, so headless runs keep it.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets

_FILL = {"leader": "#1a7f37", "follower": "#0969da", "non-voter": "#8250df", "sealed": "#b35900",
         "removed": "#6e7781", "down": "#cf222e"}


def _fmt(value) -> str:
    return "-" if value is None else str(value)


def cluster_svg(status) -> str:
    n = max(len(status.nodes), 1)
    width, height, radius = 560, 330, 46
    cx, cy, ring = width / 2, 185, 95 if n > 1 else 0
    centres = []
    for i in range(n):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        centres.append((cx + ring * 1.6 * math.cos(angle), cy + ring * math.sin(angle) + 10))
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' font-family='sans-serif' font-size='12'>"]
    leader_index = next((i for i, r in enumerate(status.nodes) if r.role == "leader"), None)
    if leader_index is not None:
        lx, ly = centres[leader_index]
        for i, row in enumerate(status.nodes):
            if i != leader_index and row.role in ("follower", "non-voter"):
                x, y = centres[i]
                parts.append(f"<line x1='{lx:.0f}' y1='{ly:.0f}' x2='{x:.0f}' y2='{y:.0f}' stroke='#8c959f' "
                             f"stroke-dasharray='{'' if row.role == 'follower' else '4 3'}' stroke-width='2'/>")
    for (x, y), row in zip(centres, status.nodes):
        fill = _FILL.get(row.role, "#6e7781")
        stroke = "#f2cc60" if row.role == "leader" else "#ffffff"
        parts.append(f"<g class='node' data-role='{html.escape(row.role)}'>"
                     f"<circle cx='{x:.0f}' cy='{y:.0f}' r='{radius}' fill='{fill}' stroke='{stroke}' stroke-width='5'/>"
                     f"<text x='{x:.0f}' y='{y - 14:.0f}' text-anchor='middle' fill='white' font-weight='bold'>"
                     f"{html.escape(row.name)}</text>"
                     f"<text x='{x:.0f}' y='{y + 2:.0f}' text-anchor='middle' fill='white'>{html.escape(row.role)}</text>"
                     f"<text x='{x:.0f}' y='{y + 17:.0f}' text-anchor='middle' fill='white'>term {_fmt(row.term)}</text>"
                     f"<text x='{x:.0f}' y='{y + 31:.0f}' text-anchor='middle' fill='white'>"
                     f"index {_fmt(row.commit_index)}</text></g>")
    health = {True: "healthy", False: "unhealthy", None: "unknown"}[status.autopilot_healthy]
    parts.append(f"<text x='10' y='18' font-weight='bold'>Cluster {html.escape(status.name)}</text>"
                 f"<text x='10' y='34'>leader: {html.escape(_fmt(status.leader))} · autopilot: {health} · "
                 f"failure tolerance: {_fmt(status.failure_tolerance)}</text></svg>")
    return f"<div class='labkit-cluster' data-leader='{html.escape(_fmt(status.leader))}'>{''.join(parts)}</div>"


def cluster_text(status) -> str:
    lines = [f"Cluster {status.name}: leader {_fmt(status.leader)}, autopilot "
             f"{'healthy' if status.autopilot_healthy else 'unhealthy' if status.autopilot_healthy is False else 'unknown'}"
             f", failure tolerance {_fmt(status.failure_tolerance)}"]
    for row in status.nodes:
        lines.append(f"  {row.name:<6} {row.role:<9} term {_fmt(row.term):<4} commit index {_fmt(row.commit_index):<6} "
                     f"{row.address}")
    return "\n".join(lines)


class ClusterView(widgets.VBox):
    """The live cluster picture with a Refresh button; ``refresh()`` redraws it from the
    nodes. Where widgets do not render, the SVG and a text table stand in."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.view = widgets.HTML()
        self.button = widgets.Button(description="Refresh", icon="refresh", tooltip="Read the nodes again")
        self.button.on_click(lambda _: self.refresh())
        super().__init__([self.view, self.button])
        self.refresh()

    def refresh(self):
        self.status = self.cluster.status()
        self.view.value = cluster_svg(self.status)
        return self.status

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        if isinstance(bundle, tuple):
            bundle = bundle[0]
        bundle["text/html"] = cluster_svg(self.status)
        bundle["text/plain"] = cluster_text(self.status)
        return bundle

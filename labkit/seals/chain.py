"""A picture of the seal chain - server -> seal -> KMS -> HSM - read from the running
lab, not drawn from memory: each box says what the lab sees now (state, address,
seal type, key), green when that part is up, red when it is down.

In a notebook the chain shows as SVG; text stands in where SVG is not rendered.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

_UP, _DOWN, _IDLE = "#1a7f37", "#cf222e", "#57606a"


@dataclass(frozen=True)
class Link:
    role: str    # "server", "seal", "KMS", "HSM"
    title: str
    detail: str
    up: bool | None  # None: not part of this chain


class SealChain:
    """The chain of ``lab`` through ``unsealer`` (transit) or ``kmip`` (KMIP server)."""

    def __init__(self, lab, unsealer=None, kmip=None):
        self.links = _read_links(lab, unsealer, kmip)

    def __iter__(self):
        return iter(self.links)

    def __str__(self) -> str:
        parts = []
        for link in self.links:
            mark = {True: "up", False: "DOWN", None: "-"}[link.up]
            parts.append(f"[{link.role}: {link.title} ({link.detail}) {mark}]")
        return " -> ".join(parts)

    def svg(self) -> str:
        width, height, gap = 210, 78, 36
        total = len(self.links) * width + (len(self.links) - 1) * gap + 20
        items = []
        for i, link in enumerate(self.links):
            x = 10 + i * (width + gap)
            colour = {True: _UP, False: _DOWN, None: _IDLE}[link.up]
            items.append(
                f"<rect x='{x}' y='10' width='{width}' height='{height}' rx='8' fill='white' "
                f"stroke='{colour}' stroke-width='2.5'/>"
                f"<text x='{x + 10}' y='30' font-size='11' fill='{colour}' font-weight='bold'>"
                f"{html.escape(link.role.upper())}{'' if link.up is None else (' · up' if link.up else ' · DOWN')}</text>"
                f"<text x='{x + 10}' y='50' font-size='13' font-weight='bold'>{html.escape(link.title[:28])}</text>"
                f"<text x='{x + 10}' y='70' font-size='11' fill='#333'>{html.escape(link.detail[:34])}</text>")
            if i:
                ax = x - gap
                items.append(f"<line x1='{ax + 4}' y1='49' x2='{x - 6}' y2='49' stroke='#333' stroke-width='2' "
                             f"marker-end='url(#arrow)'/>")
        return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{total}' height='{height + 20}' "
                f"font-family='sans-serif' class='labkit-seal-chain'>"
                "<defs><marker id='arrow' markerWidth='8' markerHeight='8' refX='6' refY='3' orient='auto'>"
                "<path d='M0,0 L6,3 L0,6 z' fill='#333'/></marker></defs>" + "".join(items) + "</svg>")

    def _repr_mimebundle_(self, **kwargs):
        return {"image/svg+xml": self.svg(), "text/html": f"<div>{self.svg()}</div>", "text/plain": str(self)}


def _read_links(lab, unsealer, kmip) -> list[Link]:
    status = lab.status()
    links = [Link("server", f"{status.product} {status.version}", f"{status.address} {status.state_word}",
                  bool(status.running and status.sealed is False))]
    seal_type = status.seal_type or "?"
    if unsealer is not None and seal_type == "transit":
        links.append(Link("seal", 'seal "transit"', f"key {unsealer.mount}/{unsealer.key_name}",
                          bool(status.running and not status.sealed)))
        up = unsealer.running
        links.append(Link("KMS", "unsealer (transit)", unsealer.address or "-", up))
        links.append(Link("HSM", "none", "key kept in the unsealer's barrier", None))
    elif kmip is not None and seal_type == "kmip":
        links.append(Link("seal", 'seal "kmip"', "KMIP 1.4, mutual TLS", bool(status.running and not status.sealed)))
        links.append(Link("KMS", "PyKMIP server", kmip.endpoint or "-", kmip.running))
        try:
            keys = kmip.hsm_keys()
            detail = f"{len(keys)} AES-256 key(s), not extractable" if keys else "no key"
            hsm_up = bool(keys) and all(k.extractable is False for k in keys)
        except Exception:  # the token itself missing is what this box reports
            detail, hsm_up = "token unavailable", False
        links.append(Link("HSM", f"SoftHSM token {kmip.token_label!r}", detail, hsm_up))
    elif seal_type == "static":
        links.append(Link("seal", 'seal "static"', "key file in the lab folder", bool(not status.sealed)))
    else:
        links.append(Link("seal", f"seal {seal_type!r}", "key shares typed by people", None))
    return links

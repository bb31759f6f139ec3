"""The picture at the top of notebook 01: identity in, token with policies out.
An inline SVG for JupyterLab and HTML exports, a text drawing for headless runs."""

from __future__ import annotations

import html

_BOXES = (
    ("Credential", ("password (userpass)", "role_id + secret_id (AppRole)", "signed JWT (jwt/oidc)",
                  "client certificate (cert)")),
    ("Auth method", ("POST auth/<mount>/login", "no token needed", "verifies the identity", "sets alias + metadata")),
    ("Token", ("policies", "TTL / max TTL, renewable", "entity_id", "accessor")),
    ("Every request", ("policy check on the path", "403 if no capability", "audited with HMACs", "")),
)


class AuthFlow:
    """Identity -> auth method -> token -> requests, with identity (entity/aliases) below."""

    def _repr_html_(self) -> str:
        width, box_w, gap, top = 860, 185, 30, 10
        parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='230' "
                 "font-family='sans-serif' font-size='12'>",
                 "<defs><marker id='arrow' markerWidth='10' markerHeight='8' refX='9' refY='4' orient='auto'>"
                 "<path d='M0,0 L10,4 L0,8 z' fill='#57606a'/></marker></defs>"]
        for i, (title, lines) in enumerate(_BOXES):
            x = 10 + i * (box_w + gap)
            parts.append(f"<rect x='{x}' y='{top}' width='{box_w}' height='110' rx='8' fill='#f6f8fa' "
                         "stroke='#0969da'/>")
            parts.append(f"<text x='{x + 10}' y='{top + 20}' font-weight='bold'>{html.escape(title)}</text>")
            for j, line in enumerate(lines):
                parts.append(f"<text x='{x + 10}' y='{top + 42 + j * 17}'>{html.escape(line)}</text>")
            if i < len(_BOXES) - 1:
                parts.append(f"<line x1='{x + box_w}' y1='{top + 55}' x2='{x + box_w + gap}' y2='{top + 55}' "
                             "stroke='#57606a' stroke-width='2' marker-end='url(#arrow)'/>")
        parts.append("<rect x='10' y='150' width='830' height='60' rx='8' fill='#fff8c5' stroke='#9a6700'/>")
        parts.append("<text x='20' y='172' font-weight='bold'>Identity</text>")
        parts.append("<text x='20' y='194'>entity (a person or machine) &#8592; aliases (one per auth method that "
                     "knows it) &#8594; groups (policies for many entities)</text>")
        parts.append("</svg>")
        return "<div class='labkit-diagram'>" + "".join(parts) + "</div>"

    def __repr__(self) -> str:
        rows = [" -> ".join(title for title, _ in _BOXES)]
        for title, lines in _BOXES:
            rows.append(f"  {title}: " + "; ".join(line for line in lines if line))
        rows.append("  Identity: entity <- aliases (one per auth method) -> groups")
        return "\n".join(rows)

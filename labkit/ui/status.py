"""The lab status panel: a live ipywidget in JupyterLab with a static HTML/text
fallback in headless runs, nbconvert HTML and evidence bundles."""

from __future__ import annotations

import html

import ipywidgets as widgets

_ROWS = (("Server", "product"), ("Version", "version"), ("Address", "address"), ("State", "state_word"),
         ("Storage", "storage"), ("Seal", "seal_type"), ("Mode", "mode"), ("Lifetime", "lifetime"))

_COLOURS = {"unsealed": "#1a7f37", "sealed": "#b35900", "stopped": "#cf222e", "not initialised": "#b35900"}


def status_rows(status) -> list[tuple[str, str]]:
    rows = [(label, str(getattr(status, attr))) for label, attr in _ROWS]
    rows.append(("TLS", "on (lab CA)" if status.tls else "off"))
    return rows


def status_html(status) -> str:
    colour = _COLOURS.get(status.state_word, "#57606a")
    cells = []
    for label, value in status_rows(status):
        shown = html.escape(value)
        if label == "State":
            shown = f"<b style='color:{colour}'>{shown}</b>"
        cells.append(f"<tr><th style='text-align:left;padding:2px 12px 2px 0'>{html.escape(label)}</th>"
                     f"<td style='padding:2px 0'>{shown}</td></tr>")
    return (f"<div class='labkit-status' data-state='{html.escape(status.state_word)}'>"
            f"<b>Lab {html.escape(status.name)}</b><table>{''.join(cells)}</table></div>")


def status_text(status) -> str:
    width = max(len(k) for k, _ in status_rows(status))
    return "\n".join([f"Lab {status.name}"] + [f"  {k.ljust(width)}  {v}" for k, v in status_rows(status)])


class StatusPanel(widgets.VBox):
    """Status of a lab with a Refresh button. In JupyterLab it is a widget; anywhere
    widgets don't render (papermill, nbconvert HTML) its HTML and text stand in."""

    def __init__(self, lab):
        self.lab = lab
        self.view = widgets.HTML()
        self.button = widgets.Button(description="Refresh", icon="refresh", tooltip="Read the server's status again")
        self.button.on_click(lambda _: self.refresh())
        super().__init__([self.view, self.button])
        self.refresh()

    def refresh(self):
        self.status = self.lab.status()
        self.view.value = status_html(self.status)
        return self.status

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = status_html(self.status)
        bundle["text/plain"] = status_text(self.status)
        return bundle

"""Notebook 08's pieces: the certification form (an ipywidget with a static fallback),
the notebook-to-type map, and HTML views of a run and of a verification."""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets

from ..workspace import labkit_home
from . import catalog


def default_output(output: str | os.PathLike | None) -> Path:
    """``output`` or ``$LABKIT_HOME/evidence`` (never inside the repository)."""
    return Path(output).expanduser() if output else labkit_home() / "evidence"


class CatalogView:
    """Which notebooks a run can certify, and for which integration types."""

    def __init__(self, notebooks_dir=None):
        self.entries = catalog.discover(notebooks_dir)

    def rows(self) -> list[tuple[str, str]]:
        return [(e.path.name, ", ".join(catalog.TYPE_TITLES.get(t, t) for t in e.types) or "-")
                for e in self.entries]

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><td><code>{html.escape(n)}</code></td><td>{html.escape(t)}</td></tr>"
                       for n, t in self.rows())
        return f"<table><tr><th>Notebook</th><th>Evidence for</th></tr>{body}</table>"

    def __repr__(self) -> str:
        width = max((len(n) for n, _ in self.rows()), default=8)
        return "\n".join(f"{n.ljust(width)}  {t}" for n, t in self.rows())


def result_html(result) -> str:
    from .bundle import summary_html

    try:
        return summary_html(result.summary(), None, page=False)
    except OSError:
        return f"<pre>{html.escape(str(result))}</pre>"


def verify_html(report) -> str:
    colour = "#1a7f37" if report.ok else "#cf222e"
    items = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in report.problems)
    return (f"<div class='labkit-verify' data-ok='{str(report.ok).lower()}'><b style='color:{colour}'>"
            f"{'VERIFIED' if report.ok else 'FAILED'}</b>: {html.escape(str(report.bundle))} "
            f"({report.files} files, manifest sha256 <code>{html.escape(report.fingerprint[:16])}…</code>)"
            f"{'<ul>' + items + '</ul>' if items else ''}</div>")


class CertifyForm(widgets.VBox):
    """The form of ``labkit certify``: vendor, integration, types, plugin folder,
    output, parallel jobs, timeout, fail-fast; **Certify** runs it with a progress bar.
    Where widgets don't render (papermill, nbconvert HTML) a static HTML/text
    summary of the settings and the last result stands in."""

    def __init__(self, vendor: str = "", integration: str = "", integration_types: str = "baseline",
                 plugin_source: str = "", output: str = "", notebooks: str = "", jobs: int = 0,
                 timeout: float = 900, fail_fast: bool = False, notebooks_dir=None):
        self.notebooks_dir = notebooks_dir
        present = sorted({t for e in catalog.discover(notebooks_dir) for t in e.types},
                         key=list(catalog.TYPE_TITLES).index)
        chosen = [t for t in catalog.normalise_types(integration_types) if t in present] or ["baseline"]
        self.vendor = widgets.Text(value=vendor, description="Vendor")
        self.integration = widgets.Text(value=integration, description="Integration")
        self.types = widgets.SelectMultiple(options=present, value=tuple(chosen), description="Types",
                                            rows=min(8, max(2, len(present))))
        self.only = widgets.Text(value=notebooks, description="Notebooks", placeholder="all of the types, or e.g. 00")
        self.plugin_source = widgets.Text(value=plugin_source, description="Plugin src",
                                          placeholder="folder with your plugin's go.mod (optional)")
        self.output = widgets.Text(value=str(default_output(output)), description="Output")
        self.jobs = widgets.BoundedIntText(value=jobs or (os.cpu_count() or 1), min=1, max=16, description="Parallel")
        self.timeout = widgets.BoundedFloatText(value=timeout, min=10, max=7200, description="Timeout s")
        self.fail_fast = widgets.Checkbox(value=fail_fast, description="Stop at first failure")
        self.button = widgets.Button(description="Certify", button_style="primary", icon="check")
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="Progress")
        self.status = widgets.HTML("")
        self.output_view = widgets.HTML("")
        self.result = None
        self.button.on_click(lambda _: self.run())
        super().__init__([self.vendor, self.integration, self.types, self.only, self.plugin_source, self.output,
                          self.jobs, self.timeout, self.fail_fast, self.button, self.bar, self.status,
                          self.output_view])

    def settings(self) -> dict:
        only = [s for s in self.only.value.replace(",", " ").split() if s]
        return {"vendor": self.vendor.value, "integration": self.integration.value,
                "types": list(self.types.value) or ["baseline"], "plugin_source": self.plugin_source.value or None,
                "output": self.output.value, "only": only or None, "jobs": self.jobs.value,
                "timeout": self.timeout.value, "fail_fast": self.fail_fast.value}

    def _progress(self, event, result, results) -> None:
        self.bar.max = len(results)
        self.bar.value = sum(1 for r in results if r.status != "not-run")
        running = [r.stem for r in results if r.status == "not-run" and r.executed is not None]
        done = [f"{r.stem}: {r.status}" for r in results if r.status != "not-run"]
        self.status.value = html.escape(f"running: {', '.join(running) or '-'} | " + "; ".join(done))

    def run(self):
        """Run the certification with the form's settings; returns the CertifyResult."""
        from .certify import certify

        s = self.settings()
        self.button.disabled = True
        self.status.value = "starting..."
        try:
            self.result = certify(s["vendor"], s["integration"], s["types"], output=s["output"],
                                  plugin_source=s["plugin_source"], jobs=s["jobs"], timeout=s["timeout"],
                                  fail_fast=s["fail_fast"], only=s["only"], notebooks_dir=self.notebooks_dir,
                                  progress=self._progress)
            self.output_view.value = result_html(self.result)
            self.status.value = html.escape(f"{'passed' if self.result.ok else 'FAILED'}: {self.result.folder}")
        except Exception as exc:
            self.status.value = f"<b style='color:#cf222e'>{html.escape(str(exc))}</b>"
            raise
        finally:
            self.button.disabled = False
        return self.result

    def _settings_text(self) -> str:
        s = self.settings()
        return "\n".join(f"  {k:<14} {v}" for k, v in s.items())

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in self.settings().items())
        last = result_html(self.result) if self.result else "<i>not run yet</i>"
        bundle["text/html"] = f"<div class='labkit-certify-form'><b>Certification</b><table>{rows}</table>{last}</div>"
        bundle["text/plain"] = "Certification\n" + self._settings_text() + (
            "\n" + str(self.result) if self.result else "\n  not run yet")
        return bundle

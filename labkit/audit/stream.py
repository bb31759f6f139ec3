"""A live view of streamed audit entries: an ipywidget that refreshes itself while
the kernel runs, with a static HTML/text fallback for headless runs."""

from __future__ import annotations

import threading
import time

import ipywidgets as widgets

from .log import table


class AuditStream(widgets.VBox):
    """The last ``last`` request/response pairs of ``source`` (anything with an
    ``entries()`` method: an :class:`AuditSink` or an :class:`AuditLog`).

    With ``live=True`` a background thread refreshes the view every ``interval``
    seconds for ``duration`` seconds; the Refresh button works at any time."""

    def __init__(self, source, last: int = 10, live: bool = True, interval: float = 0.5, duration: float = 600):
        self.source = source
        self.last = last
        self.view = widgets.HTML()
        self.counter = widgets.Label()
        self.button = widgets.Button(description="Refresh", icon="refresh", tooltip="Read the entries again")
        self.button.on_click(lambda _: self.refresh())
        super().__init__([widgets.HBox([self.button, self.counter]), self.view])
        self._stop = threading.Event()
        self._thread = None
        self.refresh()
        if live:
            self._thread = threading.Thread(target=self._follow, args=(interval, duration), daemon=True)
            self._thread.start()

    def refresh(self):
        self.records = table(self.source.entries(), self.last, "Streamed audit entries")
        self.view.value = self.records._repr_html_()
        self.counter.value = f"{len(self.source.entries())} entries received"
        return self.records

    def _follow(self, interval: float, duration: float) -> None:
        end = time.monotonic() + duration
        seen = -1
        while not self._stop.is_set() and time.monotonic() < end:
            count = len(self.source.entries())
            if count != seen:
                seen = count
                try:
                    self.refresh()
                except Exception:  # the source went away (lab stopped): stop following
                    return
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()

    def close(self):
        self.stop()
        super().close()

    def _repr_mimebundle_(self, **kwargs):
        self.refresh()
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.records._repr_html_()
        bundle["text/plain"] = repr(self.records)
        return bundle

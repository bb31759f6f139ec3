"""Inside a certification kernel: keep the run's private list of secrets current.

A certified notebook registers every credential it creates or sees with
:mod:`labkit.redact`, but dev labs delete their ``credentials.json`` when they stop,
and side services keep theirs in memory. So certification starts each kernel with an
IPython startup file that calls :func:`install`: after every cell, the kernel's
registered secrets are written (0600) to ``$LABKIT_SECRETS_CAPTURE`` in the run's
private work folder. Certification loads that file, with every ``credentials.json``
left in the run's lab folders, to redact and scan the evidence. It is never packed
and is deleted with the work folder.
"""

from __future__ import annotations

import atexit
import json
import os

ENV = "LABKIT_SECRETS_CAPTURE"


def dump(*_args) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    from ..redact import registered
    from ..workspace import write_private

    try:
        write_private(path, json.dumps(registered()))
    except OSError:
        pass


def install() -> bool:
    if not os.environ.get(ENV):
        return False
    from ..redact import ipython_shell

    shell = ipython_shell()
    if shell is None:
        return False
    shell.events.register("post_run_cell", dump)
    atexit.register(dump)
    return True


STARTUP_FILE = '__import__("labkit.evidence.capture", fromlist=["install"]).install()\n'

"""The one redactor: every secret the lab creates or sees is registered here once,
and every display, log copy and evidence file passes through :func:`redact`.

Secrets are registered by value (exact match) and, as a second net, credential
shapes are masked (Vault/OpenBao token prefixes, PEM private keys).
"""

from __future__ import annotations

import re
import sys
import threading

_lock = threading.Lock()
_values: dict[str, str] = {}  # secret value -> kind

# Shapes of credentials even when not registered: service/batch/recovery tokens of
# Vault (hvs./hvb./hvr.) and OpenBao (s./b./r.), and PEM private keys.
TOKEN_SHAPE = re.compile(r"\b(?:hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,}")
PRIVATE_KEY_SHAPE = re.compile(
    r"-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----.*?-----END (?:[A-Z ]+ )?PRIVATE KEY-----",
    re.S,
)
_MIN_LEN = 4  # shorter values would mask ordinary words


def mask(kind: str) -> str:
    return f"<redacted:{kind}>"


def register(value, kind: str = "secret") -> None:
    """Remember ``value`` as a secret of ``kind`` (root-token, unseal-key, pin, ...)."""
    if value is None:
        return
    text = str(value.reveal() if hasattr(value, "reveal") else value)
    if len(text) < _MIN_LEN:
        return
    with _lock:
        _values[text] = kind


def registered() -> dict[str, str]:
    with _lock:
        return dict(_values)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and credential shape masked."""
    if not text:
        return text
    with _lock:
        items = sorted(_values.items(), key=lambda kv: -len(kv[0]))
    for value, kind in items:
        if value in text:
            text = text.replace(value, mask(kind))
    text = PRIVATE_KEY_SHAPE.sub(mask("private-key"), text)
    text = TOKEN_SHAPE.sub(mask("token"), text)
    return text


def find_secrets(text: str) -> list[str]:
    """Kinds of secrets present in ``text`` (used by scanners and tests)."""
    hits = []
    with _lock:
        items = list(_values.items())
    for value, kind in items:
        if value in text:
            hits.append(kind)
    if PRIVATE_KEY_SHAPE.search(text):
        hits.append("private-key")
    if TOKEN_SHAPE.search(text):
        hits.append("token")
    return hits


class Secret:
    """A credential whose repr and str never show its value; ``reveal()`` does."""

    __slots__ = ("_value", "kind")

    def __init__(self, value: str, kind: str = "secret"):
        self._value = value
        self.kind = kind
        register(value, kind)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.kind}: ****)"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)


class _RedactingStream:
    """Wraps a kernel's stdout/stderr so registered secrets never reach a cell output."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(redact(text) if isinstance(text, str) else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def ipython_shell():
    """The running IPython shell (a notebook kernel), or None in scripts and tests."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def install_output_guard() -> bool:
    """In an IPython kernel, redact stdout, stderr and plain-text displays.

    Returns True when a guard is (already) installed. Outside IPython it does nothing:
    scripts and tests print what they print.
    """
    shell = ipython_shell()
    if shell is None:
        return False
    if getattr(shell, "_labkit_output_guard", False):
        return True
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _RedactingStream):
            setattr(sys, name, _RedactingStream(stream))
    formatter = shell.display_formatter.formatters["text/plain"]
    formatter.for_type(str, lambda text, p, cycle: p.text(redact(repr(text))))
    shell._labkit_output_guard = True
    return True

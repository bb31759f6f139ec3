"""The one supervisor: every process the lab runs starts here.

It owns loopback ports, log files, readiness waits, the two lifetimes and cleanup,
so orphans and port clashes are solved once for the server, unsealers, PostgreSQL,
identity providers and every other side service.

Lifetimes:

* ``ephemeral``: the process dies with the Python process that started it, even when
  that one is SIGKILLed (see :mod:`labkit.services.reaper`).
* ``persistent``: the process runs in its own session and survives a kernel restart;
  a lab re-attaches to it through its pid and start time.
"""

from __future__ import annotations

import atexit
import enum
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..errors import PortBusy, ServerStartError
from ..redact import redact

LOOPBACK = "127.0.0.1"


class Lifetime(str, enum.Enum):
    EPHEMERAL = "ephemeral"
    PERSISTENT = "persistent"

    @classmethod
    def resolve(cls, value: "str | Lifetime | None") -> "Lifetime":
        """``auto`` means persistent inside a JupyterLab kernel, else ephemeral.

        ``LABKIT_LIFETIME`` overrides ``auto``. JupyterLab's session manager sets
        ``JPY_SESSION_NAME`` in the kernels it starts; papermill, nbval and plain
        scripts don't, so headless runs and tests default to ephemeral.
        """
        if value in (None, "auto"):
            value = os.environ.get("LABKIT_LIFETIME", "auto")
        if value == "auto":
            return cls.PERSISTENT if os.environ.get("JPY_SESSION_NAME") else cls.EPHEMERAL
        try:
            return cls(value)
        except ValueError:
            from ..errors import LabError

            raise LabError(
                f"Unknown lifetime {value!r}.",
                "Use 'ephemeral' (dies with this Python process), 'persistent' "
                "(survives kernel restarts) or 'auto'.",
            ) from None


# Ports ---------------------------------------------------------------------

def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on now, chosen by the OS (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_needs_privilege(port: int) -> bool:
    return port < 1024 and os.geteuid() != 0


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when a server could listen on ``port``. SO_REUSEADDR as servers set it:
    connections lingering in TIME_WAIT after a restart don't make a port busy."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_owner(port: int) -> str:
    """Best effort: which process listens on ``port`` (for the error message)."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                proc = psutil.Process(conn.pid)
                return f"{proc.name()} (pid {conn.pid})"
    except (psutil.Error, OSError):
        pass
    return "another process"


def require_free_port(port: int, what: str = "the lab server", host: str = LOOPBACK) -> int:
    if not 0 < port < 65536:
        raise PortBusy(f"{port} is not a TCP port.", "Give a port between 1024 and 65535, or none to let the lab choose.")
    if port_needs_privilege(port):
        raise PortBusy(f"Port {port}, wanted for {what}, is below 1024 and only root may listen there.",
                       "Leave the port unset so the lab picks a free one, or choose a port from 1024 to 65535.")
    if not port_is_free(port, host):
        raise PortBusy(
            f"Port {port} on {host}, wanted for {what}, is already in use by {port_owner(port)}.",
            "Leave the port unset so the lab picks a free one, choose another port, "
            "or stop what listens there (`labkit ps` lists lab servers).",
        )
    return port


# The reaper ---------------------------------------------------------------

class _Reaper:
    """One reaper process per owning Python process, started on first need."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._owner_pid: int | None = None

    def _ensure(self) -> subprocess.Popen:
        # After a fork the child must not share the parent's reaper.
        if self._proc is None or self._owner_pid != os.getpid() or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "labkit.services.reaper"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
                bufsize=1,
            )
            self._owner_pid = os.getpid()
        return self._proc

    def _send(self, line: str) -> None:
        with self._lock:
            proc = self._ensure()
            proc.stdin.write(line + "\n")
            proc.stdin.flush()

    def watch(self, pid: int, create_time: float) -> None:
        self._send(f"+{pid} {create_time!r}")

    def forget(self, pid: int) -> None:
        with self._lock:
            if self._proc is None or self._owner_pid != os.getpid():
                return
        self._send(f"-{pid}")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None


REAPER = _Reaper()
_EPHEMERAL: dict[int, "LabProcess"] = {}


def _stop_ephemeral_at_exit() -> None:
    for proc in list(_EPHEMERAL.values()):
        try:
            proc.stop(timeout=5)
        except Exception:  # best effort while the interpreter shuts down
            pass


atexit.register(_stop_ephemeral_at_exit)


# Processes ----------------------------------------------------------------

@dataclass
class LabProcess:
    """A process the lab started (or re-attached to by pid and start time)."""

    name: str
    pid: int
    create_time: float
    log_path: Path
    lifetime: Lifetime
    argv: tuple[str, ...] = ()
    _popen: subprocess.Popen | None = None

    def __repr__(self) -> str:
        state = "running" if self.alive() else "exited"
        return f"LabProcess({self.name!r}, pid={self.pid}, {self.lifetime.value}, {state})"

    def record(self) -> dict:
        """What a state file keeps to re-attach later."""
        return {"pid": self.pid, "create_time": self.create_time, "log": str(self.log_path),
                "lifetime": self.lifetime.value, "name": self.name}

    @classmethod
    def attach(cls, record: Mapping) -> "LabProcess | None":
        """The process a state record names, if it still runs (pid reuse is ruled out
        by comparing start times)."""
        try:
            proc = cls(record["name"], int(record["pid"]), float(record["create_time"]),
                       Path(record["log"]), Lifetime(record["lifetime"]))
        except (KeyError, TypeError, ValueError):
            return None
        return proc if proc.alive() else None

    def alive(self) -> bool:
        if self._popen is not None:
            if self._popen.poll() is not None:
                return False
        try:
            ps = psutil.Process(self.pid)
            return abs(ps.create_time() - self.create_time) < 0.01 and ps.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def exit_code(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def rss_bytes(self) -> int:
        return psutil.Process(self.pid).memory_info().rss

    def tail(self, lines: int = 20) -> str:
        """Last lines of the log, redacted: safe to show in an error or a notebook."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64 * 1024))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return redact("\n".join(text.splitlines()[-lines:]))

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL after ``timeout``; forget it."""
        if self.alive():
            signal_group(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.alive():
                signal_group(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while self.alive() and time.monotonic() < deadline:
                    time.sleep(0.02)
        if self._popen is not None:
            try:
                self._popen.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def kill(self) -> None:
        """SIGKILL, as a crash would (used by durability lessons and tests)."""
        signal_group(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._popen is not None:
            self._popen.wait(timeout=1)
        self._forget()

    def _forget(self) -> None:
        if _EPHEMERAL.pop(self.pid, None) is not None:
            REAPER.forget(self.pid)

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str,
                   interval: float = 0.02) -> None:
        """Poll ``ready`` until it is true; raise with the log's last lines if the
        process exits or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                code = self.exit_code()
                raise ServerStartError(
                    f"{self.name} exited{f' with status {code}' if code is not None else ''} "
                    f"before it was {what}. Last lines of {self.log_path}:\n{self.tail()}",
                    "Read the log lines above; the first error line names the cause.",
                )
            try:
                if ready():
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                log = self.tail()
                self.stop()
                raise ServerStartError(
                    f"{self.name} was not {what} within {timeout:g} s. Last lines of {self.log_path}:\n{log}",
                    "Check the log lines above; on a slow machine pass a larger timeout.",
                )
            time.sleep(interval)


def signal_group(pid: int, sig: int) -> None:
    """Signal a process group (the lab starts each process as a group leader), or
    the process alone when it is not one."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def processes_under(folder: Path) -> list[psutil.Process]:
    """Processes whose command line or working folder lies in ``folder`` (a lab's side
    services all do: their configs, data and logs live there)."""
    marker = str(Path(folder)) + os.sep
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if proc.pid == os.getpid():
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
            if marker in cmd + os.sep or (proc.info["cwd"] or "").startswith(marker.rstrip(os.sep)):
                found.append(proc)
        except (psutil.Error, TypeError):
            continue
    return found


def stop_processes(procs: list[psutil.Process], timeout: float = 10.0) -> None:
    """SIGTERM, wait, SIGKILL what is left."""
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)


def spawn(name: str, argv: Sequence[str], log_path: Path, lifetime: Lifetime,
          env: Mapping[str, str] | None = None, cwd: Path | None = None,
          user: str | None = None) -> LabProcess:
    """Start ``argv`` in its own session with output appended to ``log_path`` (0600).

    ``user`` runs it as another account (PostgreSQL refuses to run as root).
    """
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        popen = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=fd, stderr=subprocess.STDOUT,
            env=full_env, cwd=str(cwd) if cwd else None, start_new_session=True,
            user=user,
        )
    except FileNotFoundError as exc:
        raise ServerStartError(f"Cannot start {name}: {argv[0]} not found.",
                               "Run `labkit doctor` to see what is missing and how to install it.") from exc
    except PermissionError as exc:
        raise ServerStartError(f"Cannot start {name}: {argv[0]} is not executable ({exc.strerror}).",
                               f"chmod +x {argv[0]}") from exc
    finally:
        os.close(fd)
    try:
        create_time = psutil.Process(popen.pid).create_time()
    except psutil.Error:
        create_time = 0.0
    proc = LabProcess(name, popen.pid, create_time, log_path, lifetime, tuple(argv), popen)
    if lifetime is Lifetime.EPHEMERAL and create_time:
        _EPHEMERAL[proc.pid] = proc
        REAPER.watch(proc.pid, create_time)
    return proc

"""Reaper: the portable way ephemeral lab processes die with their owner.

The owning Python process starts one reaper and keeps the write end of its stdin.
It sends ``+PID CREATE_TIME`` for each ephemeral process it starts and ``-PID`` when
it stops one itself. When stdin reaches end-of-file, the owner is gone (normal exit,
crash or SIGKILL: the kernel closes the pipe in every case), so the reaper stops
every process group still registered: SIGTERM, a grace period, then SIGKILL.

This works on Linux and macOS alike, as root or not, unlike PR_SET_PDEATHSIG
(Linux only, and tied to the thread that forked).
"""

from __future__ import annotations

import signal
import sys
import time

GRACE_SECONDS = 5.0


def _same_process(pid: int, create_time: float) -> bool:
    import psutil

    try:
        return abs(psutil.Process(pid).create_time() - create_time) < 0.01
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _signal_group(pid: int, sig: int) -> None:
    from .supervisor import signal_group

    signal_group(pid, sig)


def reap(registered: dict[int, float], grace: float = GRACE_SECONDS) -> None:
    """Stop every registered process (and its process group) that still runs."""
    alive = {pid: ct for pid, ct in registered.items() if _same_process(pid, ct)}
    for pid in alive:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        alive = {pid: ct for pid, ct in alive.items() if _same_process(pid, ct)}
        time.sleep(0.05)
    for pid in alive:
        _signal_group(pid, signal.SIGKILL)


def main() -> int:
    # The owner's terminal signals (Ctrl-C, a kernel interrupt) are not ours to act on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    registered: dict[int, float] = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0].startswith("+"):
                registered[int(parts[0][1:])] = float(parts[1])
            elif parts[0].startswith("-"):
                registered.pop(int(parts[0][1:]), None)
        except (ValueError, IndexError):
            continue
    reap(registered)
    return 0


if __name__ == "__main__":
    sys.exit(main())

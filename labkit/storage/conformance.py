"""A storage conformance check a backend vendor can point at a running server.

It talks only to the server API (a KV version 1 mount maps keys onto storage entries
one to one) and checks what the server relies on its storage for:

* write/read: values come back byte for byte (unicode, 64 KiB values);
* overwrite: the last acknowledged write wins;
* list: keys under a prefix, one level deep, folders ending in ``/``, sorted;
* delete: a deleted key is gone from reads and lists, empty folders vanish;
* concurrent writers: parallel writes are all kept, none is half-applied;
* durability: every acknowledged write survives ``kill -9`` of the server (of the
  leader, for a cluster) and a restart.

A *target* is what the check crashes and recovers: :class:`LabTarget` for a
:class:`~labkit.VaultLab`, :class:`ClusterTarget` for a
:class:`~labkit.storage.RaftCluster`.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import hvac

from ..errors import LabError


class ConformanceError(LabError):
    """The check could not run (not its findings: those are rows of the report)."""


# Targets -------------------------------------------------------------------------

class LabTarget:
    """A single server: crash is SIGKILL, recover is a start of the same lab."""

    def __init__(self, lab, backend: str | None = None):
        self.lab = lab
        self.backend = backend or lab.status().storage
        self.name = f"{lab.name} ({self.backend})"

    def client(self) -> hvac.Client:
        return self.lab.new_client(self.lab.credentials.root_token.reveal())

    def crash(self) -> str:
        self.lab.kill()
        return f"kill -9 of {self.lab.name}"

    def recover(self) -> float:
        began = time.perf_counter()
        self.lab.start()
        return time.perf_counter() - began


class ClusterTarget:
    """A raft cluster: crash is SIGKILL of the leader; recover waits for a new leader
    and starts the old one again."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.backend = "raft cluster"
        self.name = f"{cluster.name} ({cluster.size}-node raft)"
        self._killed = None

    def client(self) -> hvac.Client:
        return self.cluster.client()

    def crash(self) -> str:
        leader = self.cluster.wait_leader()[0]
        leader.kill()
        self._killed = leader
        return f"kill -9 of leader {leader.name}"

    def recover(self) -> float:
        began = time.perf_counter()
        killed, self._killed = self._killed, None
        if killed is not None and not any(n.running for n in self.cluster.nodes if n is not killed):
            # A single node: nobody else can lead, so it has to come back first.
            self.cluster.start_node(killed, wait_healthy=False)
            self.cluster.wait_leader()
        else:
            self.cluster.wait_leader(exclude=killed)
            if killed is not None:
                self.cluster.start_node(killed)
        return time.perf_counter() - began


# Report ----------------------------------------------------------------------------

@dataclass
class Row:
    check: str
    passed: bool
    detail: str
    seconds: float


@dataclass
class ConformanceReport:
    target: str
    backend: str
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.passed for r in self.rows)

    def as_checks(self) -> list[tuple[bool, str, str]]:
        """Rows in the shape :func:`labkit.checks.check` takes."""
        return [(r.passed, f"{self.backend}: {r.check} ({r.detail})",
                 "Read the server log; a storage backend must keep every acknowledged write.")
                for r in self.rows]

    def _repr_html_(self) -> str:
        return results_html([self])

    def __str__(self) -> str:
        return results_text([self])


def results_html(reports: list[ConformanceReport]) -> str:
    """One table: a row per check, a column per backend."""
    checks = []
    for report in reports:
        for row in report.rows:
            if row.check not in checks:
                checks.append(row.check)
    head = "".join(f"<th style='padding:2px 10px'>{html.escape(r.target)}</th>" for r in reports)
    body = []
    for name in checks:
        cells = []
        for report in reports:
            row = next((r for r in report.rows if r.check == name), None)
            if row is None:
                cells.append("<td>-</td>")
                continue
            mark = "<b style='color:#1a7f37'>PASS</b>" if row.passed else "<b style='color:#cf222e'>FAIL</b>"
            cells.append(f"<td style='padding:2px 10px'>{mark} {html.escape(row.detail)} "
                         f"<span style='color:#57606a'>({row.seconds:.2f} s)</span></td>")
        body.append(f"<tr><th style='text-align:left;padding:2px 10px'>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return (f"<table class='labkit-conformance'><tr><th style='text-align:left'>check</th>{head}</tr>"
            f"{''.join(body)}</table>")


def results_text(reports: list[ConformanceReport]) -> str:
    lines = []
    for report in reports:
        lines.append(f"{report.target}: {'all checks pass' if report.ok else 'FAILURES'}")
        for row in report.rows:
            lines.append(f"  {'PASS' if row.passed else 'FAIL'}  {row.check:<22} {row.detail} ({row.seconds:.2f} s)")
    return "\n".join(lines)


class ResultsTable:
    """Several reports side by side (HTML table in notebooks, text elsewhere)."""

    def __init__(self, reports: list[ConformanceReport]):
        self.reports = list(reports)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)

    def as_checks(self) -> list[tuple[bool, str, str]]:
        """Every row of every report, in the shape :func:`labkit.checks.check` takes."""
        return [row for report in self.reports for row in report.as_checks()]

    def _repr_html_(self) -> str:
        return results_html(self.reports)

    def __str__(self) -> str:
        return results_text(self.reports)

    __repr__ = __str__


# The checks -------------------------------------------------------------------------

class _Kv:
    """Raw KV v1 calls through hvac (``/v1/<mount>/<key>``)."""

    def __init__(self, target, mount: str):
        self.target = target
        self.mount = mount
        self.client = target.client()

    def refresh(self) -> None:
        self.client = self.target.client()

    def put(self, key: str, data: dict) -> None:
        self.client.secrets.kv.v1.create_or_update_secret(key, data, mount_point=self.mount)

    def get(self, key: str) -> dict | None:
        try:
            return self.client.secrets.kv.v1.read_secret(key, mount_point=self.mount)["data"]
        except hvac.exceptions.InvalidPath:
            return None

    def list(self, prefix: str) -> list[str]:
        try:
            return self.client.secrets.kv.v1.list_secrets(prefix, mount_point=self.mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            return []

    def delete(self, key: str) -> None:
        self.client.secrets.kv.v1.delete_secret(key, mount_point=self.mount)


def _timed(name: str, fn) -> Row:
    began = time.perf_counter()
    try:
        passed, detail = fn()
    except Exception as exc:  # a check that blows up is a failed check, with the reason
        passed, detail = False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return Row(name, passed, detail, time.perf_counter() - began)


def check_write_read(kv: _Kv) -> tuple[bool, str]:
    values = {
        "plain": {"value": "hello"},
        "unicode": {"value": "grüße, 秘密, emoji \U0001f510"},
        "large": {"value": secrets.token_hex(32 * 1024)},  # 64 KiB
        "nested": {"value": '{"a": [1, 2, {"b": null}]}', "second": "field"},
    }
    for key, data in values.items():
        kv.put(f"rw/{key}", data)
    wrong = [k for k, data in values.items() if kv.get(f"rw/{k}") != data]
    return not wrong, f"{len(values)} values round-trip" if not wrong else f"differ: {wrong}"


def check_overwrite(kv: _Kv) -> tuple[bool, str]:
    for i in range(10):
        kv.put("ow/key", {"value": str(i)})
    got = kv.get("ow/key")
    return got == {"value": "9"}, f"last of 10 writes wins (read {got})"


def check_list(kv: _Kv) -> tuple[bool, str]:
    for key in ("ls/a/1", "ls/a/2", "ls/a/b/3", "ls/ab", "ls/a-z"):
        kv.put(key, {"v": key})
    top, inner = kv.list("ls/"), kv.list("ls/a/")
    want_top, want_inner = ["a-z", "a/", "ab"], ["1", "2", "b/"]
    ok = top == want_top and inner == want_inner
    return ok, f"ls/ -> {top}, ls/a/ -> {inner}" + ("" if ok else f" (want {want_top}, {want_inner})")


def check_delete(kv: _Kv) -> tuple[bool, str]:
    kv.put("del/x/only", {"v": "1"})
    kv.put("del/keep", {"v": "2"})
    kv.delete("del/x/only")
    gone = kv.get("del/x/only") is None
    listing = kv.list("del/")
    ok = gone and listing == ["keep"]
    return ok, f"read after delete: {'404' if gone else 'still there'}, del/ -> {listing}"


def check_concurrent(kv: _Kv, writers: int = 6, per_writer: int = 20) -> tuple[bool, str]:
    errors: list[str] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        client = kv.target.client()
        for i in range(per_writer):
            try:
                client.secrets.kv.v1.create_or_update_secret(f"cc/w{w}/k{i}", {"v": f"{w}-{i}"},
                                                             mount_point=kv.mount)
                client.secrets.kv.v1.create_or_update_secret("cc/contended", {"v": f"{w}-{i}"},
                                                             mount_point=kv.mount)
            except Exception as exc:
                with lock:
                    errors.append(f"w{w}/k{i}: {type(exc).__name__}")

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(work, range(writers)))
    missing = [f"w{w}/k{i}" for w in range(writers) for i in range(per_writer)
               if kv.get(f"cc/w{w}/k{i}") != {"v": f"{w}-{i}"}]
    contended = (kv.get("cc/contended") or {}).get("v", "")
    valid = contended in {f"{w}-{per_writer - 1}" for w in range(writers)}
    ok = not errors and not missing and valid
    detail = f"{writers} writers x {per_writer} keys: {len(missing)} missing, {len(errors)} errors"
    return ok, detail + ("" if valid else f", contended key holds {contended!r}")


def write_acknowledged(kv: _Kv, prefix: str, n: int) -> dict[str, str]:
    """Write ``n`` keys; return those the server acknowledged (a 2xx answer)."""
    acked = {}
    for i in range(n):
        key, value = f"{prefix}/k{i:05d}", secrets.token_hex(8)
        try:
            kv.put(key, {"v": value})
        except Exception:
            continue
        acked[key] = value
    return acked


def lost_writes(kv: _Kv, acked: dict[str, str]) -> list[str]:
    return [key for key, value in acked.items() if (kv.get(key) or {}).get("v") != value]


def check_durability(kv: _Kv, n: int = 50) -> tuple[bool, str]:
    acked = write_acknowledged(kv, "dur", n)
    how = kv.target.crash()
    recovered = kv.target.recover()
    kv.refresh()
    lost = lost_writes(kv, acked)
    return (not lost and len(acked) == n,
            f"{len(acked)} acknowledged, {how}, back in {recovered:.1f} s, {len(lost)} lost")


def run_conformance(target, *, durability_writes: int = 50, writers: int = 6, per_writer: int = 20,
                    crash: bool = True) -> ConformanceReport:
    """Run every check against ``target`` on a fresh KV v1 mount; returns the report."""
    mount = f"conformance-{secrets.token_hex(3)}"
    kv = _Kv(target, mount)
    try:
        kv.client.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    except Exception as exc:
        raise ConformanceError(f"Cannot mount a KV engine at {mount}/ on {target.name}: {exc}",
                               "The check needs a running, unsealed server and a root token.") from exc
    report = ConformanceReport(target.name, target.backend)
    report.rows.append(_timed("write / read", lambda: check_write_read(kv)))
    report.rows.append(_timed("overwrite", lambda: check_overwrite(kv)))
    report.rows.append(_timed("list by prefix", lambda: check_list(kv)))
    report.rows.append(_timed("delete", lambda: check_delete(kv)))
    report.rows.append(_timed("concurrent writers", lambda: check_concurrent(kv, writers, per_writer)))
    if crash:
        report.rows.append(_timed("durable across kill -9", lambda: check_durability(kv, durability_writes)))
    try:
        kv.refresh()
        kv.client.sys.disable_secrets_engine(mount)
    except Exception:
        pass
    return report


def durability_cycles(target, writes: int, cycles: int, progress=None) -> list[dict]:
    """The durability test: per cycle write ``writes`` acknowledged keys, crash, recover,
    read back every key acknowledged so far. Returns one dict per cycle."""
    mount = f"durability-{secrets.token_hex(3)}"
    kv = _Kv(target, mount)
    kv.client.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    acked: dict[str, str] = {}
    results = []
    for cycle in range(cycles):
        new = write_acknowledged(kv, f"c{cycle:02d}", writes)
        acked.update(new)
        how = target.crash()
        seconds = target.recover()
        kv.refresh()
        lost = lost_writes(kv, acked)
        row = {"cycle": cycle + 1, "acknowledged": len(new), "total": len(acked), "lost": len(lost),
               "crash": how, "recover_s": round(seconds, 2)}
        results.append(row)
        if progress:
            progress(row)
    return results


# Small helpers for notebooks ------------------------------------------------------------

def write_kv(client: hvac.Client, mount: str, prefix: str, n: int) -> dict[str, str]:
    """Write ``n`` secrets ``<prefix>/kNNNNN`` to the KV v1 engine at ``mount`` (mounted
    first if absent); returns what the server acknowledged, key -> value."""
    if f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    acked = {}
    for i in range(n):
        key, value = f"{prefix}/k{i:05d}", secrets.token_hex(8)
        client.secrets.kv.v1.create_or_update_secret(key, {"v": value}, mount_point=mount)
        acked[key] = value
    return acked


def missing_kv(client: hvac.Client, mount: str, written: dict[str, str]) -> list[str]:
    """Keys of ``written`` that do not read back with their value."""
    missing = []
    for key, value in written.items():
        try:
            got = client.secrets.kv.v1.read_secret(key, mount_point=mount)["data"].get("v")
        except hvac.exceptions.InvalidPath:
            got = None
        if got != value:
            missing.append(key)
    return missing

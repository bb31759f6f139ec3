"""``go test`` for a plugin: unit tests alone, or with the acceptance tests run
against the lab server (``VAULT_ACC=1``, ``VAULT_ADDR``, ``VAULT_TOKEN``,
``PLUGIN_MOUNT``). The output stays in the lab's logs as evidence."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..redact import redact
from ..services.supervisor import Lifetime, spawn
from ..workspace import write_private
from .build import go_binary
from .catalog import Mount
from .errors import PluginError
from .source import PluginSource

_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+)", re.M)
_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+)\s+\[(build|setup) failed\]", re.M)


@dataclass
class TestReport:
    """What ``go test -v`` said, test by test."""

    plugin: str
    acceptance: bool
    exit_code: int
    seconds: float
    log_path: Path | None
    output: str
    results: dict[str, str] = field(default_factory=dict)

    __test__ = False  # not a pytest class

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and "FAIL" not in self.results.values()

    def names(self, outcome: str) -> list[str]:
        return [n for n, r in self.results.items() if r == outcome]

    def __str__(self) -> str:
        counts = ", ".join(f"{len(self.names(o))} {o.lower()}" for o in ("PASS", "FAIL", "SKIP"))
        return (f"go test {self.plugin} ({'unit + acceptance' if self.acceptance else 'unit'}): "
                f"{'passed' if self.passed else 'FAILED'} in {self.seconds:.1f} s ({counts}); log {self.log_path}")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{'✅' if r == 'PASS' else '❌' if r == 'FAIL' else '⏭️'}</td>"
                       f"<td><code>{html.escape(n)}</code></td><td>{r}</td></tr>" for n, r in self.results.items())
        return (f"<p><b>{html.escape(str(self))}</b></p><table><tr><th></th><th>Test</th><th>Result</th></tr>"
                f"{rows}</table>")


def run_tests(source: PluginSource, lab=None, mount: Mount | str | None = None, acceptance: bool = True,
              timeout: float = 600) -> TestReport:
    """``go test -v -count=1 ./...`` in the source folder; with ``acceptance`` and a lab,
    the acceptance tests run against that lab at ``mount``."""
    if acceptance and lab is None:
        raise PluginError("Acceptance tests need a lab server.", "Pass lab=<your VaultLab> or acceptance=False.")
    env = {"CGO_ENABLED": "0", "VAULT_ACC": ""}
    if acceptance:
        path = mount.path if isinstance(mount, Mount) else (mount or source.name)
        env.update({"VAULT_ACC": "1", "VAULT_ADDR": lab.address, "PLUGIN_MOUNT": path,
                    "VAULT_TOKEN": lab.credentials.root_token.reveal()})
        if lab.tls:
            env["VAULT_CACERT"] = str(lab.ca_cert)
    log_dir = lab.workspace.logs_dir if lab is not None else source.folder
    log_path = log_dir / f"plugin-test-{source.name}.log"
    raw = log_path.with_suffix(".raw")
    raw.unlink(missing_ok=True)
    began = time.perf_counter()
    proc = spawn(f"go test {source.name}", [str(go_binary()), "test", "-v", "-count=1", "./..."], raw,
                 lab.lifetime if lab is not None else Lifetime.EPHEMERAL, env=env, cwd=source.folder)
    deadline = time.monotonic() + timeout
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    timed_out = proc.alive()
    code = -1 if timed_out else (proc._popen.wait() if proc._popen is not None else 1)
    proc.stop()
    output = redact(raw.read_text(errors="replace")) if raw.exists() else ""
    raw.unlink(missing_ok=True)
    header = (f"# go test -v -count=1 ./... in {source.folder}\n# acceptance: {acceptance}"
              f"{' against ' + lab.address if acceptance else ''}\n")
    write_private(log_path, header + output)
    results = {m.group(2): m.group(1) for m in _RESULT.finditer(output)}
    results.update({f"{m.group(1)} (does not compile)": "FAIL" for m in _BUILD_FAILED.finditer(output)})
    if timed_out:
        raise PluginError(f"go test of {source.name} did not finish within {timeout:g} s.",
                          f"Read {log_path}; a first run downloads and compiles modules.")
    return TestReport(source.name, acceptance, code, time.perf_counter() - began,
                      log_path, output, results)

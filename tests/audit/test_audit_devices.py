"""Audit room against a real lab server and real receiver processes."""

from __future__ import annotations

import json

import pytest

from labkit import VaultLab, audit
from labkit.errors import FeatureUnavailable, LabError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab():
    with VaultLab("audit-tests", lifetime="ephemeral", export_env=False) as lab:
        yield lab


@pytest.fixture
def clean(lab):
    yield lab
    for mount in list(audit.declared(lab)):
        audit.disable(lab, mount)


def log_path(lab, name="audit.log"):
    return lab.workspace.logs_dir / name


def test_file_device_declared_in_config_on_openbao(clean):
    lab = clean
    assert audit.method(lab) == "config"
    audit.enable(lab, audit.file_device(log_path(lab)))
    assert audit.enabled_devices(lab)["file/"]["type"] == "file"
    assert "audit \"file\" \"file/\"" in (lab.config_dir / "audit.hcl").read_text()
    lab.client.secrets.kv.v2.create_or_update_secret("app", {"api_key": "k-123456789"})
    entries = audit.read_entries(log_path(lab))
    rows = audit.pair(entries)
    write = next(r for r in rows if r["path"] == "secret/data/app")
    assert write["status"] == "ok" and write["operation"] == "create" and write["hmac'd fields"] > 0
    request = next(e for e in entries if e["type"] == "request" and e["request"]["path"] == "secret/data/app")
    assert "request.data.data.api_key" in audit.hmac_fields(request)
    assert "k-123456789" not in log_path(lab).read_text()
    hashed = audit.audit_hash(lab, "file", "k-123456789")
    assert hashed.startswith("hmac-sha256:") and audit.find_value(entries, hashed)
    assert "secret/data/app" in repr(audit.AuditLog(log_path(lab)).table())


def test_salt_changes_when_device_is_enabled_again(clean):
    lab = clean
    audit.enable(lab, audit.file_device(log_path(lab)))
    before = audit.audit_hash(lab, "file", "same-input")
    audit.disable(lab, "file")
    assert "file/" not in audit.enabled_devices(lab)
    audit.enable(lab, audit.file_device(log_path(lab)))
    assert audit.audit_hash(lab, "file", "same-input") != before


def test_bad_device_gets_error_with_server_log(clean):
    with pytest.raises(LabError) as err:
        audit.enable(clean, audit.file_device(clean.config_dir / "server.hcl" / "audit.log"), timeout=3)
    assert "audit device file/" in str(err.value) and err.value.fix
    assert "file/" not in audit.declared(clean) and not (clean.config_dir / "audit.hcl").exists()
    with pytest.raises(FeatureUnavailable):
        audit.enable(clean, audit.AuditDevice("carrier-pigeon", "bird"))


def test_socket_device_streams_to_siem_and_outage_blocks_requests(clean):
    lab = clean
    siem = audit.AuditSink(lab, "tcp").start()
    try:
        audit.enable(lab, audit.socket_device(siem.address))
        lab.client.secrets.kv.v2.create_or_update_secret("streamed", {"v": "1"})
        siem.wait_for(lambda es: "secret/data/streamed" in audit.log.paths(es), what="the KV write")
        widget = audit.AuditStream(siem, live=False)
        bundle = widget._repr_mimebundle_()
        assert "secret/data/streamed" in bundle["text/plain"] and "<table>" in bundle["text/html"]
        before = len(siem.entries())
        audit.probe(lab)
        siem.wait_for(lambda es: len(es) > before)
        widget.button.click()
        assert "entries received" in widget.counter.value
        siem.stop()
        blocked = audit.probe(lab)
        assert blocked.status == 500 and not blocked.served
        siem.start()
        assert audit.wait_served(lab).served
    finally:
        siem.stop()


def test_second_device_keeps_requests_served(clean):
    lab = clean
    siem = audit.AuditSink(lab, "tcp").start()
    audit.enable(lab, audit.socket_device(siem.address))
    audit.enable(lab, audit.file_device(log_path(lab)))
    siem.stop()
    assert audit.probe(lab).served


def test_http_device_posts_to_receiver(clean):
    lab = clean
    receiver = audit.AuditSink(lab, "http").start()
    try:
        audit.enable(lab, audit.http_device(receiver.uri))
        audit.probe(lab)
        entries = receiver.wait_for(lambda es: "auth/token/lookup-self" in audit.log.paths(es))
        assert all(isinstance(e, dict) for e in entries)
        assert "POST /audit" in receiver.log_path.read_text()
    finally:
        receiver.stop()


def test_unaudited_paths_and_rotation(clean):
    lab = clean
    audit.enable(lab, audit.file_device(log_path(lab, "rot.log")))
    seen = audit.unaudited_requests(lab, log_path(lab, "rot.log"))
    assert seen["sys/health"] == "not audited" and seen["sys/seal-status"] == "not audited"
    assert seen["auth/token/lookup-self"] == "in the audit log"
    rotation = audit.rotate(lab, "file")
    assert rotation.old_path.name == "rot.log.1" and rotation.old_entries > 0
    assert rotation.new_path.exists() and rotation.new_entries > 0
    json.loads(rotation.new_path.read_text().splitlines()[0])


def test_api_route_when_unlocked(lab_home):
    lab = VaultLab("audit-api", lifetime="ephemeral", export_env=False)
    audit.allow_api_audit(lab)
    with lab.start():
        assert audit.method(lab) == "api"
        audit.enable(lab, audit.file_device(lab.workspace.logs_dir / "api.log"))
        assert "file/" in audit.enabled_devices(lab)
        assert not (lab.config_dir / "audit.hcl").exists()
        audit.disable(lab, "file")
        assert "file/" not in audit.enabled_devices(lab)


def test_receiver_is_reattached_not_started_twice(lab):
    first = audit.AuditSink(lab, "tcp", name="siem-reattach").start()
    try:
        again = audit.AuditSink(lab, "tcp", name="siem-reattach").start()
        assert again.process.pid == first.process.pid and again.port == first.port
        assert (lab.workspace.root / "services" / "siem-reattach.json").exists()
    finally:
        first.stop()
    assert not first.running
    assert not (lab.workspace.root / "services" / "siem-reattach.json").exists()


def test_socket_device_needs_its_receiver_and_forget_rescues_a_lab(lab_home):
    with VaultLab("audit-forget", lifetime="ephemeral", export_env=False) as lab:
        with pytest.raises(LabError, match="Nothing listens"):
            audit.enable(lab, audit.socket_device("127.0.0.1:1"))
        siem = audit.AuditSink(lab, "tcp").start()
        audit.enable(lab, audit.socket_device(siem.address))
        siem.stop()
        with pytest.raises(LabError, match="siem/"):
            lab.restart()
        audit.forget(lab)
        lab.restart()
        assert audit.probe(lab).served and audit.enabled_devices(lab) == {}


def test_audit_report_reads_the_lab_folder(clean):
    from labkit.audit.cli import audit_report

    audit.enable(clean, audit.file_device(log_path(clean, "report.log")))
    audit.probe(clean)
    text = audit_report("audit-tests", last=5)
    assert "auth/token/lookup-self" in text and "report.log" in text

"""Displays of the secrets room, without a server."""

from labkit.errors import LabError
from labkit.redact import Secret
from labkit.secrets import Table, attempt, key_versions_picture
from labkit.secrets.engines import check_mount_path

import pytest


def test_table_masks_registered_secrets_in_text_and_html():
    password = Secret("table-password-1234", "database-password")
    table = Table(["user", "password"], [["svc", password.reveal()]], title="t")
    bundle = table._repr_mimebundle_()
    assert "table-password-1234" not in bundle["text/plain"] + bundle["text/html"]
    assert "<redacted:database-password>" in str(table)
    assert table.column("user") == ["svc"] and len(table) == 1


def test_attempt_keeps_result_or_error():
    ok = attempt(lambda x: x * 2, 21)
    assert ok.ok and ok.value == 42 and "succeeded" in str(ok)
    Secret("attempt-secret-5678", "pin")

    def refuse():
        raise LabError("wrong pin attempt-secret-5678", "use the right one")

    bad = attempt(refuse)
    assert not bad.ok and "attempt-secret-5678" not in bad.message
    assert "Fix: use the right one" in str(bad)
    assert "#cf222e" in bad._repr_mimebundle_()["text/html"]


def test_key_versions_picture_without_server():
    key = {"name": "k", "latest_version": 3, "min_decryption_version": 2}
    picture = key_versions_picture(key, {"a": "vault:v1:xx", "b": "vault:v3:yy"})
    assert [picture.role(v) for v in (1, 2, 3)] == ["retired", "decrypts", "encrypts"]
    svg = picture.svg()
    assert svg.startswith("<svg") and svg.count("<rect") == 3 and "a (vault:v1:…) cannot be decrypted" in svg
    with pytest.raises(LabError):
        key_versions_picture(key, {"bad": "plaintext"})


@pytest.mark.parametrize("path", ["", "/", "a//b", "../x", "sys", "auth/x"])
def test_bad_mount_paths(path):
    with pytest.raises(LabError):
        check_mount_path(path)


def test_good_mount_path():
    assert check_mount_path("/pki-int/") == "pki-int"

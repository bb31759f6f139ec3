"""The pkcs11 seal: the lab's KMS plugin built from Go (cached), the config it
renders, and a real OpenBao sealed by SoftHSM through it, including the HSM being
unavailable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from labkit import VaultLab
from labkit.errors import FeatureUnavailable
from labkit.hsm import SoftHSMToken
from labkit.hsm.kms_plugin import (
    PLUGIN_FILE,
    _explain_build_failure,
    build_plugin,
    configure_pkcs11_seal,
    file_sha256,
    install_plugin,
    render_openbao_seal,
    render_vault_seal,
    seal_support,
)
from labkit.hsm.review import HSMEvidence, reviewer_checklist, try_start
from labkit.server.binary import ServerBinary


def test_openbao_fragment_declares_plugin_with_sha_and_seal():
    text = render_openbao_seal(command=PLUGIN_FILE, sha256="ab" * 32, lib=Path("/lib/x.so"), token_label="t",
                               pin='p"in', key_label="k", env={"SOFTHSM2_CONF": "/lab/hsm/softhsm2.conf"})
    assert 'plugin "kms" "pkcs11"' in text and 'seal "pkcs11"' in text
    assert f'sha256sum = "{"ab" * 32}"' in text
    assert 'env       = ["SOFTHSM2_CONF=/lab/hsm/softhsm2.conf"]' in text
    assert 'pin         = "p\\"in"' in text  # quoted safely
    assert 'mechanism   = "CKM_AES_GCM"' in text


def test_vault_enterprise_gets_its_own_stanza_and_community_is_told_what_is_missing(tmp_path):
    text = render_vault_seal(lib=Path("/lib/x.so"), token_label="t", pin="pin1", key_label="k")
    assert 'hmac_key_label = "k-hmac"' in text and "plugin" not in text.split("\n", 2)[-1]
    ent = ServerBinary(tmp_path / "vault", "vault", (1, 18, 0), "Vault v1.18.0+ent", True)
    assert seal_support(ent).route == "vault-enterprise"
    oss = ServerBinary(tmp_path / "vault", "vault", (1, 18, 0), "Vault v1.18.0", False)
    support = seal_support(oss)
    assert not support.ok and any("Vault Enterprise" in m for m in support.missing)


def test_build_failure_messages_name_the_cause():
    err = _explain_build_failure("go: example.org/m@v1: reading https://proxy/...: 403 Forbidden")
    assert isinstance(err, FeatureUnavailable) and "module" in err.problem and "GOPROXY" in err.fix
    err = _explain_build_failure('cgo: C compiler "gcc" not found: exec: "gcc": executable file not found')
    assert "C compiler" in err.problem and "gcc" in err.fix


def test_plugin_build_is_cached_and_installs_executable(tmp_path):
    first = build_plugin()
    second = build_plugin()
    assert second.built is False and second.path == first.path and second.sha256 == first.sha256
    installed = install_plugin(tmp_path / "plugins", second)
    assert installed.path == tmp_path / "plugins" / PLUGIN_FILE
    assert os.access(installed.path, os.X_OK) and file_sha256(installed.path) == first.sha256


@pytest.mark.integration
def test_pkcs11_seal_end_to_end_with_hsm_outages(lab_home):
    lab = VaultLab("hsmseal", mode="durable", lifetime="ephemeral", export_env=False,
                   plugin_dir=Path(lab_home) / "labs" / "hsmseal" / "plugins")
    token = SoftHSMToken(lab.workspace, "vault-hsm").ensure()
    token.aes_key("bao-root-key")
    plan = configure_pkcs11_seal(lab, token, "bao-root-key")
    assert stat.S_IMODE(plan.fragment.stat().st_mode) == 0o600
    ev = HSMEvidence()
    try:
        lab.start()
        status = lab.seal_status()
        assert status["type"] == "pkcs11" and status["recovery_seal"] and not status["sealed"]
        assert not lab.credentials.unseal_keys and len(lab.credentials.recovery_keys) == 3
        token.remember_in(lab)
        lab.client.secrets.kv.v2.create_or_update_secret("hsm-demo", {"answer": "42"})
        ev.secret_before = {"answer": "42"}
        # Another lab's token with the same label (and another PIN) used in this process
        # must not be what the server's plugin sees at the restart.
        from labkit.workspace import Workspace
        SoftHSMToken(Workspace("other-lab").ensure(), "vault-hsm").ensure().aes_key("bao-root-key")
        ev.restart_seconds.append(lab.restart())
        read = lambda: lab.client.secrets.kv.v2.read_secret_version(  # noqa: E731
            "hsm-demo", raise_on_deleted_version=True)["data"]["data"]
        ev.secret_after_restart = read()
        lab.stop()

        configure_pkcs11_seal(lab, token, "bao-root-key", pin="wrong-pin-123")
        ev.wrong_pin = try_start(lab)
        assert not ev.wrong_pin.started and "CKR_PIN_INCORRECT" in ev.wrong_pin.error

        configure_pkcs11_seal(lab, token, "bao-root-key")
        token.unplug()
        ev.token_removed = try_start(lab)
        assert not ev.token_removed.started and "no token labelled" in ev.token_removed.error

        token.plug_back()
        ev.back = try_start(lab)
        assert ev.back.started and ev.back.sealed is False
        ev.secret_after_recovery = read()
        checklist = reviewer_checklist(lab, token, "bao-root-key", plan, ev)
        assert checklist.passed, str(checklist)
        assert "hsm:vault-hsm:pin" in lab.credentials.extra
    finally:
        lab.stop()


def test_command_line_reports_support_and_cached_build(capsys):
    from labkit.hsm.kms_plugin import main

    assert main(["support"]) == 0
    assert "ready via openbao-plugin" in capsys.readouterr().out
    assert main(["build"]) == 0
    assert "sha256" in capsys.readouterr().out

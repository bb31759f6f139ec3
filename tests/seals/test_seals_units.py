"""Seal helpers without a server: stanzas, key files, outcomes, and the KMIP server's
SoftHSM cryptography engine against a real SoftHSM token."""

from __future__ import annotations

import os
import stat

import pytest
from kmip.core import enums
from kmip.core import exceptions as kmip_errors

from labkit import VaultLab
from labkit.errors import LabError
from labkit.seals import StartOutcome, static_key, static_stanza
from labkit.seals.kmip_server import REF_BYTES, SoftHSMCryptographyEngine, key_reference, new_key_label


def test_static_key_is_private_32_bytes_and_stable(lab_home):
    lab = VaultLab("st", mode="durable", export_env=False)
    key_id, path = static_key(lab, "20261204-1")
    assert path.stat().st_size == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert static_key(lab, "20261204-1")[1].read_bytes() == first  # not regenerated
    stanza = static_stanza(key_id, path)
    assert 'seal "static"' in stanza and f'"file://{path}"' in stanza
    assert first.hex() not in stanza  # the key is named by file, never inline


def test_static_stanza_rejects_bad_key_and_id(lab_home, tmp_path):
    short = tmp_path / "short.key"
    short.write_bytes(os.urandom(16))
    with pytest.raises(LabError, match="32-byte"):
        static_stanza("k1", short)
    with pytest.raises(LabError, match="key id"):
        static_key(VaultLab("st2", mode="durable", export_env=False), "bad id/..")


def test_start_outcome_names_the_cause():
    error = ("server exited with status 1. Last lines of server.log:\n"
             "2026-12-04T16:15:16.154Z [ERROR] core: unlocking HA lock failed\n"
             'Error configuring seal "kmip": dial tcp 127.0.0.1:1: connect: connection refused\n'
             "Fix: Read the log lines above")
    outcome = StartOutcome(False, 1.0, error)
    assert outcome.cause.startswith('Error configuring seal "kmip"')
    assert "connection refused" in str(outcome)
    assert StartOutcome(True, 0.2).cause == ""


def test_key_reference_shape():
    label = new_key_label()
    assert len(key_reference(label)) == REF_BYTES
    with pytest.raises(ValueError):
        key_reference("too-short")


@pytest.fixture
def hsm_engine(tmp_path):
    from labkit.hsm.softhsm import SoftHSMToken

    token = SoftHSMToken(tmp_path, "kmip-test").ensure()
    yield SoftHSMCryptographyEngine(token), token
    token.close()


def test_engine_keys_live_in_softhsm_and_gcm_round_trips(hsm_engine):
    engine, token = hsm_engine
    created = engine.create_symmetric_key(enums.CryptographicAlgorithm.AES, 256)
    ref = created["value"]
    label = ref[4:].decode()
    info = token.attributes(label)
    assert info["sensitive"] is True and info["extractable"] is False and info["bits"] == 256
    out = engine.encrypt(enums.CryptographicAlgorithm.AES, ref, b"root key", cipher_mode=enums.BlockCipherMode.GCM,
                         auth_additional_data=b"aad", auth_tag_length=16)
    assert out["cipher_text"] != b"root key" and len(out["auth_tag"]) == 16 and len(out["iv_nonce"]) == 12
    plain = engine.decrypt(enums.CryptographicAlgorithm.AES, ref, out["cipher_text"],
                           cipher_mode=enums.BlockCipherMode.GCM, iv_nonce=out["iv_nonce"],
                           auth_additional_data=b"aad", auth_tag=out["auth_tag"])
    assert plain == b"root key"
    with pytest.raises(kmip_errors.CryptographicFailure):
        engine.decrypt(enums.CryptographicAlgorithm.AES, ref, out["cipher_text"],
                       cipher_mode=enums.BlockCipherMode.GCM, iv_nonce=out["iv_nonce"],
                       auth_additional_data=b"other", auth_tag=out["auth_tag"])


def test_engine_refuses_other_keys_and_modes(hsm_engine):
    engine, _ = hsm_engine
    with pytest.raises(kmip_errors.InvalidField):
        engine.create_symmetric_key(enums.CryptographicAlgorithm.AES, 128)
    ref = engine.create_symmetric_key(enums.CryptographicAlgorithm.AES, 256)["value"]
    with pytest.raises(kmip_errors.InvalidField):
        engine.encrypt(enums.CryptographicAlgorithm.AES, ref, b"x" * 16, cipher_mode=enums.BlockCipherMode.CBC)


def test_kmip_and_static_seals_need_a_binary_that_has_them(tmp_path):
    from types import SimpleNamespace

    from labkit.errors import FeatureUnavailable
    from labkit.seals.kmip import _require_seal
    from labkit.server.binary import ServerBinary

    vault_oss = SimpleNamespace(binary=ServerBinary(tmp_path / "vault", "vault", (1, 17, 0), "Vault v1.17.0"))
    for seal in ("kmip", "static"):
        with pytest.raises(FeatureUnavailable, match=f"The {seal} seal is not available on HashiCorp Vault 1.17.0"):
            _require_seal(vault_oss, seal)
    _require_seal(vault_oss, "transit")
    bao = SimpleNamespace(binary=ServerBinary(tmp_path / "bao", "openbao", (2, 7, 2), "OpenBao v2.7.2"))
    _require_seal(bao, "kmip")
    _require_seal(bao, "static")

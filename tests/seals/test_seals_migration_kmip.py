"""Seal migration Shamir -> static -> Shamir with data intact, and the KMIP seal
through the lab KMIP server whose keys live in SoftHSM."""

from __future__ import annotations

import pytest

from labkit import VaultLab
from labkit.errors import LabError
from labkit.seals import LabKmipServer, SealChain, migrate_seal, static_key, static_stanza, try_start

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _secret(lab) -> dict:
    return lab.client.secrets.kv.v2.read_secret_version("keep", raise_on_deleted_version=True)["data"]["data"]


def test_migrate_shamir_to_static_and_back_keeps_data(lab_home):
    with VaultLab("mig", mode="durable", lifetime="ephemeral", export_env=False) as lab:
        lab.client.secrets.kv.v2.create_or_update_secret("keep", {"v": "intact"})
        shamir_keys = [k.reveal() for k in lab.credentials.unseal_keys]
        with pytest.raises(LabError, match="already uses Shamir"):
            migrate_seal(lab, None)
        key_id, key_path = static_key(lab)

        there = migrate_seal(lab, static_stanza(key_id, key_path))
        assert (there.from_type, there.to_type) == ("shamir", "static")
        assert there.keys_used == lab.key_threshold
        assert lab.seal_status()["type"] == "static" and lab.seal_status()["sealed"] is False
        # The old unseal key shares are now the recovery keys.
        assert [k.reveal() for k in lab.credentials.recovery_keys] == shamir_keys
        assert not lab.credentials.unseal_keys
        assert _secret(lab) == {"v": "intact"}
        lab.restart()  # no key typed
        assert lab.status().sealed is False

        back = migrate_seal(lab, None, static_stanza(key_id, key_path, disabled=True))
        assert (back.from_type, back.to_type) == ("static", "shamir")
        assert lab.seal_status()["type"] == "shamir"
        assert [k.reveal() for k in lab.credentials.unseal_keys] == shamir_keys
        assert not (lab.config_dir / "seal.hcl").exists()
        lab.restart()  # unsealed with the Shamir shares again
        assert _secret(lab) == {"v": "intact"}


def test_kmip_seal_through_softhsm(lab_home):
    lab = VaultLab("km", mode="durable", lifetime="ephemeral", export_env=False)
    kmip = LabKmipServer(lab).start()
    try:
        cert = kmip.client_cert()
        # A new KMIP key is Pre-Active: init through it fails (on a throwaway lab, since a
        # failed init leaves storage that claims to be initialised).
        pre_active = kmip.create_key(cert, activate=False)
        assert kmip.key_state(cert, pre_active) == "PRE_ACTIVE"
        throwaway = VaultLab("km-pre", mode="durable", lifetime="ephemeral", export_env=False)
        throwaway.set_config_fragment("seal", kmip.seal_stanza(pre_active, cert))
        inactive = try_start(throwaway, timeout=20)
        throwaway.stop(purge=True)
        assert not inactive.ok and "PermissionDenied" in inactive.error

        key_id = kmip.create_key(cert)
        assert kmip.key_state(cert, key_id) == "ACTIVE"
        hsm_keys = kmip.hsm_keys()
        assert len(hsm_keys) == 2
        assert all(k.sensitive is True and k.extractable is False and k.bits == 256 for k in hsm_keys)
        lab.set_config_fragment("seal", kmip.seal_stanza(key_id, cert))
        lab.start()
        assert lab.seal_status()["type"] == "kmip" and lab.credentials.recovery_keys
        lab.client.secrets.kv.v2.create_or_update_secret("keep", {"v": "intact"})
        assert "Processing operation: Encrypt" in kmip.log_path.read_text()
        lab.restart()
        assert _secret(lab) == {"v": "intact"}
        assert [link.up for link in SealChain(lab, kmip=kmip)] == [True, True, True, True]

        kmip.stop()
        down = try_start(lab, restart=True, timeout=20)
        assert not down.ok and 'Error configuring seal "kmip"' in down.cause and "connection refused" in down.cause
        kmip.start()
        assert try_start(lab, timeout=30).ok and _secret(lab) == {"v": "intact"}

        # A certificate from the same CA but another CN does not own the key.
        lab.set_config_fragment("seal", kmip.seal_stanza(key_id, kmip.client_cert("someone-else")))
        wrong = try_start(lab, restart=True, timeout=20)
        assert not wrong.ok and "PermissionDenied" in wrong.cause
        lab.set_config_fragment("seal", kmip.seal_stanza(key_id, cert))
        assert try_start(lab, timeout=30).ok and _secret(lab) == {"v": "intact"}
    finally:
        lab.stop()
        kmip.stop()

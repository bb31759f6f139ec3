"""The transit seal end to end: a real unsealer server, a real main server, restarts,
and the failure modes a KMS vendor must handle (KMS down at start, key disabled,
wrong credentials), each ending with the server unsealed and the data intact.

Key disabled and wrong credentials are exercised by notebook 05's "KMS vendor
checklist" cell (run by the suite through nbval), so they are not repeated here."""

from __future__ import annotations

import tempfile
from pathlib import Path

import hvac
import pytest

from labkit import VaultLab
from labkit.seals import SealChain, TransitUnsealer, try_start

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def transit(request):
    import os

    home = Path(tempfile.mkdtemp(prefix="seals-transit-", dir=os.environ["LABKIT_HOME"]))
    unsealer = TransitUnsealer("tr", lifetime="ephemeral", home=home).start()
    lab = VaultLab("tr", mode="durable", lifetime="ephemeral", home=home, export_env=False)
    lab.set_config_fragment("seal", unsealer.seal_stanza())
    lab.start()
    lab.client.secrets.kv.v2.create_or_update_secret("keep", {"v": "intact"})
    yield unsealer, lab
    lab.stop()
    unsealer.stop()


def _secret(lab) -> dict:
    return lab.client.secrets.kv.v2.read_secret_version("keep", raise_on_deleted_version=True)["data"]["data"]


def test_init_behind_transit_gives_recovery_keys_only(transit):
    _, lab = transit
    assert lab.seal_status()["type"] == "transit"
    assert lab.seal_status()["recovery_seal"] is True
    assert lab.credentials.recovery_keys and not lab.credentials.unseal_keys


def test_seal_token_is_periodic_and_least_privilege(transit):
    unsealer, _ = transit
    assert unsealer.token_policies() == ["autounseal", "default"]
    info = unsealer.lab.client.auth.token.lookup(unsealer.token.reveal())["data"]
    assert info["period"] and info["orphan"] is True
    seal_client = unsealer.lab.new_client(unsealer.token.reveal())
    ct = seal_client.secrets.transit.encrypt_data("autounseal", "aGVsbG8=")["data"]["ciphertext"]
    assert ct.startswith("vault:v")
    with pytest.raises(hvac.exceptions.Forbidden):
        seal_client.sys.list_mounted_secrets_engines()
    with pytest.raises(hvac.exceptions.Forbidden):
        seal_client.secrets.transit.read_key("autounseal")


def test_key_is_not_exportable(transit):
    unsealer, _ = transit
    info = unsealer.key_info()
    assert info["exportable"] is False and info["deletion_allowed"] is False


def test_restart_unseals_through_transit_with_data_intact(transit):
    _, lab = transit
    lab.restart()
    assert lab.status().sealed is False
    assert _secret(lab) == {"v": "intact"}


def test_kms_down_at_start_is_a_clear_error_and_recovers(transit):
    unsealer, lab = transit
    unsealer.stop()
    chain = SealChain(lab, unsealer=unsealer)
    assert [link.up for link in chain][2] is False
    outcome = try_start(lab, restart=True, timeout=20)
    assert not outcome.ok
    assert 'Error configuring seal "transit"' in outcome.cause and "connection refused" in outcome.cause
    assert not lab.running
    unsealer.start()  # same raft data, same key
    assert try_start(lab, timeout=30).ok
    assert _secret(lab) == {"v": "intact"}
    assert [link.up for link in SealChain(lab, unsealer=unsealer)][:3] == [True, True, True]

"""The lab server for real: both modes, TLS, restart, seal/unseal, bad input."""

import os
import socket
import stat
import subprocess

import hvac
import pytest

from labkit import VaultLab
from labkit.errors import LabError, PortBusy, ServerStartError, WorkspaceError
from labkit.redact import redact

pytestmark = pytest.mark.integration


def test_dev_lab_gives_an_authenticated_client_and_kv(dev_lab):
    client = dev_lab.client
    assert client.is_authenticated()
    client.secrets.kv.v2.create_or_update_secret("hello", {"v": "1"})
    assert client.secrets.kv.v2.read_secret_version("hello", raise_on_deleted_version=True)["data"]["data"] == {"v": "1"}
    status = dev_lab.status()
    assert (status.sealed, status.storage, status.seal_type, status.mode) == (False, "inmem", "shamir", "dev")


def test_server_listens_on_loopback_only_and_files_are_private(dev_lab):
    import psutil

    ports = {c.laddr for c in psutil.Process(dev_lab.process.pid).net_connections(kind="tcp")
             if c.status == psutil.CONN_LISTEN}
    assert ports and all(addr.ip == "127.0.0.1" for addr in ports), ports
    assert dev_lab.workspace.permission_problems() == []
    assert stat.S_IMODE(os.stat(dev_lab.workspace.path("credentials.json")).st_mode) == 0o600


def test_no_credential_in_repr_or_server_log(dev_lab):
    token = dev_lab.credentials.root_token.reveal()
    key = dev_lab.credentials.unseal_keys[0].reveal()
    for shown in (repr(dev_lab), str(dev_lab.status()), repr(dev_lab.credentials), dev_lab.status()._repr_html_()):
        assert token not in shown and key not in shown
    log = dev_lab.log_path.read_text()
    assert token not in log and key not in log
    assert token not in redact(f"token={token}")


def test_durable_lab_survives_restart_seal_and_unseal(lab_home):
    with VaultLab("durable", mode="durable", tls=True, export_env=False) as lab:
        assert lab.address.startswith("https://127.0.0.1:")
        assert len(lab.credentials.unseal_keys) == 3
        lab.client.sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
        lab.client.secrets.kv.v2.create_or_update_secret("keep", {"me": "yes"}, mount_point="kv")
        address = lab.address
        assert lab.restart() > 0
        assert lab.address == address
        assert lab.client.secrets.kv.v2.read_secret_version(
            "keep", mount_point="kv", raise_on_deleted_version=True)["data"]["data"] == {"me": "yes"}
        lab.seal()
        assert lab.status().sealed is True and lab.status().state_word == "sealed"
        lab.unseal()
        assert lab.status().sealed is False
        assert lab.status().storage == "raft"
        # The client trusts the lab CA and nothing else is needed.
        assert hvac.Client(url=lab.address, token=lab.credentials.root_token.reveal(),
                           verify=str(lab.ca_cert)).is_authenticated()
    # Stopped and started again from disk: same data, unsealed with stored keys.
    with VaultLab("durable", mode="durable", tls=True, export_env=False) as again:
        assert again.client.secrets.kv.v2.read_secret_version(
            "keep", mount_point="kv", raise_on_deleted_version=True)["data"]["data"] == {"me": "yes"}


def test_dev_restart_reinitialises_in_memory(lab_home):
    with VaultLab("devrestart", export_env=False) as lab:
        first = lab.credentials.root_token.reveal()
        lab.restart()
        assert lab.client.is_authenticated()
        assert lab.credentials.root_token.reveal() != first


def test_cli_works_beside_the_lab_with_exported_env(lab_home):
    with VaultLab("cli", tls=True) as lab:
        assert os.environ["VAULT_ADDR"] == lab.address and os.environ["VAULT_CACERT"] == str(lab.ca_cert)
        lab.client.secrets.kv.v2.create_or_update_secret("cli", {"x": "from-api"})
        env_file = lab.workspace.path("env.sh")
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        out = subprocess.run(["bash", "-c", f". {env_file} && {lab.binary.path} kv get -field=x secret/cli"],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "from-api", out.stderr


def test_busy_port_is_a_clear_error_and_nothing_is_left(lab_home):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        lab = VaultLab("busy", port=port, export_env=False)
        with pytest.raises(PortBusy) as err:
            lab.start()
        assert "Leave the port unset" in str(err.value)
        assert lab.process is None


def test_server_that_exits_at_start_quotes_its_log(lab_home):
    lab = VaultLab("broken", export_env=False)
    lab.workspace.ensure()
    lab.set_config_fragment("bad", 'listener "tcp" {\n  address = \n')
    with pytest.raises(ServerStartError) as err:
        lab.start()
    message = str(err.value)
    assert "exited" in message and "bad.hcl" in message, message
    assert not lab.running and lab.workspace.read_json("state.json") is None


def test_corrupt_state_is_a_clear_error_and_purge_recovers(lab_home):
    from labkit.lab import stop_lab

    lab = VaultLab("corrupt", export_env=False)
    lab.workspace.ensure()
    lab.workspace.path("state.json").write_text("{{{")
    with pytest.raises(WorkspaceError) as err:
        lab.start()
    assert "labkit stop corrupt --purge" in str(err.value)
    stop_lab("corrupt", purge=True)
    with VaultLab("corrupt", export_env=False) as fresh:
        assert fresh.client.is_authenticated()


def test_dev_mode_refuses_to_overwrite_a_durable_labs_keys(lab_home):
    with VaultLab("guarded", mode="durable", export_env=False):
        pass
    with pytest.raises(WorkspaceError) as err:
        VaultLab("guarded", mode="dev", export_env=False).start()
    assert "durable" in str(err.value)
    with VaultLab("guarded", mode="durable", export_env=False) as lab:
        assert lab.client.is_authenticated()


def test_attaching_with_other_settings_is_refused(dev_lab):
    with pytest.raises(LabError) as err:
        VaultLab("test", mode="durable", export_env=False).start()
    assert "already running" in str(err.value)


@pytest.mark.parametrize("kwargs", [{"mode": "prod"}, {"key_shares": 2, "key_threshold": 3}, {"timeout": 0}])
def test_bad_parameters_are_clear_errors(kwargs):
    with pytest.raises(LabError) as err:
        VaultLab("bad", **kwargs)
    assert "Fix:" in str(err.value)


def test_credentials_kept_before_init_survive_it(lab_home):
    from labkit.credentials import LabCredentials

    lab = VaultLab("keepextra", export_env=False)
    lab.credentials = LabCredentials()
    lab.credentials.add("hsm-pin", "pin-0000-1111", "hsm-pin")
    with lab:
        assert lab.credentials.root_token is not None
        assert lab.credentials.extra["hsm-pin"].reveal() == "pin-0000-1111"
        saved = LabCredentials.load(lab.workspace)
        assert saved.extra["hsm-pin"].reveal() == "pin-0000-1111"

"""The plugin life cycle against a real lab server with real Go builds: register,
enable, use, upgrade, acceptance tests, the auth template, and every classic mistake."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from labkit import VaultLab, plugins
from labkit.plugins import (ChecksumMismatch, NameClash, NotExecutable, OutsidePluginDir, PluginBuildError,
                            PluginCrashed, UnknownMount, WrongPluginType, mistakes)
from labkit.redact import find_secrets

try:
    plugins.go_binary()
except plugins.GoNotFound:  # pragma: no cover - CI and the lab image have Go
    pytest.skip("Go is not installed: plugin builds cannot run", allow_module_level=True)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env():
    home = Path(tempfile.mkdtemp(prefix="plugins-", dir=os.environ["LABKIT_HOME"]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LABKIT_HOME", str(home))
        lab = VaultLab("plug", lifetime="ephemeral", plugin_dir=home / "labs" / "plug" / "plugins",
                       export_env=False).start()
        try:
            src = plugins.new("acme-secrets", home / "src" / "acme-secrets")
            built = plugins.build(src, version="v0.1.0", lab=lab)
            reg = plugins.register(lab, built)
            mount = plugins.enable(lab, reg, "acme")
            yield {"home": home, "lab": lab, "src": src, "built": built, "reg": reg, "mount": mount}
        finally:
            lab.stop()


def test_build_is_static_versioned_and_cached(env):
    built = env["built"]
    assert built.static and plugins.elf_interpreter(built.path) is None
    again = plugins.build(env["src"], version="v0.1.0", lab=env["lab"])
    assert again.cached and again.sha256 == built.sha256 and again.seconds < 2


def test_registered_in_catalog_and_plugin_dir(env):
    lab, reg = env["lab"], env["reg"]
    entry = plugins.catalog_entry(lab, "secret", "acme-secrets", "v0.1.0")
    assert entry["sha256"] == reg.sha256 and entry["version"] == "v0.1.0"
    assert reg.path.parent == Path(lab.plugin_dir).resolve() and os.access(reg.path, os.X_OK)
    # registering the same build again is harmless (a notebook cell run twice)
    assert plugins.register(lab, env["built"]).sha256 == reg.sha256
    assert plugins.enable(lab, reg, "acme").version == "v0.1.0"


def test_credential_lease_renew_revoke_through_the_api(env):
    tour = plugins.credential_tour(env["lab"], env["mount"], role="app")
    facts = tour.facts
    assert facts["lease_duration"] == 120 and facts["renewable"]
    assert facts["renewed_duration"] > 0
    assert facts["username"] in facts["issued_before"] and facts["username"] not in facts["issued_after"]
    assert "<redacted" in repr(tour) or "password=<redacted>" in repr(tour)


def test_cli_reads_the_plugin(env):
    out = plugins.run_cli(env["lab"], "read", "acme/info")
    assert "acme-secrets" in out and "v0.1.0" in out


def test_upgrade_without_downtime_and_tests_against_the_lab(env):
    lab, src = env["lab"], env["src"]
    plugins.edit(src, "backend/path_creds.go", "// labkit:extra-response-fields",
                 '"issued_at": time.Now().UTC().Format(time.RFC3339),')
    built2 = plugins.build(src, version="v0.2.0", lab=lab)
    assert built2.sha256 != env["built"].sha256 and built2.version == "v0.2.0"
    reg2 = plugins.register(lab, built2)
    result = plugins.upgrade(lab, "acme", reg2)
    assert result.old_version == "v0.1.0" and result.new_version == "v0.2.0"
    assert result.probe_requests > 0 and result.probe_failures == 0, result.failure_samples
    assert lab.client.read("acme/info")["data"]["version"] == "v0.2.0"
    lab.client.write("acme/roles/up", ttl="60s")
    assert "issued_at" in lab.client.read("acme/creds/up")["data"]
    assert "successfully reloaded plugin" in plugins.logs(lab, "reloaded plugin")
    env["built2"] = built2

    report = plugins.run_tests(src, lab=lab, mount="acme")
    assert report.passed, report.output[-3000:]
    assert report.results.get("TestAccCredentialLifecycle") == "PASS"
    assert report.results.get("TestCredentialLeaseRenewRevoke") == "PASS"
    logged = report.log_path.read_text()
    assert "TestAccCredentialLifecycle" in logged and report.log_path.parent == lab.workspace.logs_dir
    assert not find_secrets(logged)


def test_name_clashes(env):
    lab = env["lab"]
    with pytest.raises(NameClash, match="built-in"):
        plugins.register(lab, env["built"], name="kv")
    with pytest.raises(NameClash, match="already used by 'kv'"):
        plugins.enable(lab, env["reg"], "secret")
    with pytest.raises(NameClash, match="already registered with another binary"):
        plugins.register(lab, env["built2"], version="v0.1.0")
    assert plugins.catalog_entry(lab, "secret", "acme-secrets", "v0.1.0")["sha256"] == env["reg"].sha256


def test_unknown_mount(env):
    with pytest.raises(UnknownMount) as err:
        plugins.find_mount(env["lab"], "nope")
    assert "acme" in err.value.fix and "secret" in err.value.fix
    with pytest.raises(UnknownMount):
        plugins.upgrade(env["lab"], "nope", env["reg"])


def test_classic_mistakes(env):
    lab, built = env["lab"], env["built"]
    shown = {
        OutsidePluginDir: mistakes.outside_plugin_dir(lab, built),
        NotExecutable: mistakes.missing_exec_bit(lab, built),
        WrongPluginType: mistakes.wrong_plugin_type(lab, built),
        ChecksumMismatch: mistakes.checksum_mismatch(lab, built),
    }
    for kind, result in shown.items():
        assert isinstance(result.error, kind), repr(result)
        assert result.error.fix
    assert "checksums did not match" in shown[ChecksumMismatch].error.problem
    names = {e["name"] for e in plugins.catalog.catalog_entries(lab)}
    assert not {"acme-secrets-tampered", "acme-secrets-noexec"} & names
    assert sorted(p.name for p in Path(lab.plugin_dir).iterdir()) == ["acme-secrets-v0.1.0", "acme-secrets-v0.2.0"]


def test_crash_at_start_shows_stderr(env):
    result = mistakes.crash_at_start(env["lab"], env["home"] / "src")
    assert isinstance(result.error, PluginCrashed), repr(result)
    assert "license.key" in result.error.stderr


def test_build_error_names_file_and_line(env):
    result = mistakes.build_error(env["lab"], env["home"] / "src")
    assert isinstance(result.error, PluginBuildError), repr(result)
    assert result.error.file == "backend/path_info.go" and result.error.line == 27
    assert "verison" in result.error.problem


def test_auth_method_login_alias_metadata_renew(env):
    lab = env["lab"]
    src = plugins.new("acme-auth", env["home"] / "src" / "acme-auth", template="auth")
    mount = plugins.enable(lab, plugins.register(lab, plugins.build(src, version="v0.1.0", lab=lab)), "acme-auth")
    assert mount.api_prefix == "auth/acme-auth"
    tour = plugins.login_tour(lab, mount, user="alice")
    assert tour.facts["metadata"]["team"] == "payments" and tour.facts["metadata"]["username"] == "alice"
    assert "alice" in tour.facts["aliases"] and tour.facts["renewed_ttl"] > 0
    assert "alice-key" not in repr(tour)
    report = plugins.run_tests(src, lab=lab, mount=mount)
    assert report.passed, report.output[-3000:]
    assert report.results.get("TestAccLoginRenewAlias") == "PASS"


def test_refused_registration_leaves_nothing(env):
    lab = env["lab"]
    with pytest.raises(plugins.PluginError, match="version mismatch") as err:
        plugins.register(lab, env["built"], version="v9.9.9")
    assert "Build with the version you register" in err.value.fix
    assert not (Path(lab.plugin_dir) / "acme-secrets-v9.9.9").exists()
    assert plugins.catalog_entry(lab, "secret", "acme-secrets", "v9.9.9") is None


def test_cli_against_the_lab(env, capsys):
    from labkit.plugins.cli import main

    src = str(env["src"].folder)
    assert main(["--lab", "plug", "upgrade", src, "--mount", "acme", "--version", "v0.2.0"]) == 0
    assert "-> v0.2.0" in capsys.readouterr().out
    assert main(["--lab", "plug", "logs", "acme-secrets", "-n", "5"]) == 0
    assert "acme-secrets" in capsys.readouterr().out
    assert main(["--lab", "plug", "upgrade", src, "--mount", "nope", "--version", "v0.2.0"]) == 1
    assert "Nothing is mounted at 'nope'" in capsys.readouterr().err


def test_find_mount_by_auth_prefix(env):
    mount = plugins.find_mount(env["lab"], "auth/acme-auth")
    assert mount.kind == "auth" and mount.name == "acme-auth"
    with pytest.raises(UnknownMount):
        plugins.find_mount(env["lab"], "auth/acme")  # a secrets mount, not an auth one

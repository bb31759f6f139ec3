"""Plugin sources and binaries without a server: scaffold, open, edit, hash, ELF checks."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from labkit import plugins
from labkit.plugins import DynamicallyLinked, NoGoModule, PluginError


def test_new_renames_module_and_plugin(tmp_path):
    src = plugins.new("acme-secrets", tmp_path / "acme", template="secrets", module="example.com/acme/vault-secrets")
    assert src.name == "acme-secrets" and src.kind == "secret"
    assert src.module == "example.com/acme/vault-secrets"
    main = (tmp_path / "acme" / "main.go").read_text()
    assert '"example.com/acme/vault-secrets/backend"' in main
    assert 'PluginName = "acme-secrets"' in (tmp_path / "acme" / "backend" / "backend.go").read_text()
    assert not any("example-secrets" in p.read_text() for p in src.files())
    assert {"go.mod", "go.sum", "main.go", "acceptance_test.go"} <= {p.name for p in src.files()}


def test_new_auth_template_is_an_auth_method(tmp_path):
    src = plugins.new("acme-auth", tmp_path / "auth", template="auth")
    assert src.kind == "auth"


def test_new_refuses_non_empty_folder_but_reopens_with_exist_ok(tmp_path):
    plugins.new("acme-secrets", tmp_path / "p")
    with pytest.raises(PluginError, match="not empty"):
        plugins.new("acme-secrets", tmp_path / "p")
    assert plugins.new("acme-secrets", tmp_path / "p", exist_ok=True).name == "acme-secrets"


@pytest.mark.parametrize("name", ["Acme", "a", "kv/x", "-x", ""])
def test_bad_plugin_names(tmp_path, name):
    with pytest.raises(PluginError, match="not a usable plugin name"):
        plugins.new(name, tmp_path / "x")


def test_unknown_template(tmp_path):
    with pytest.raises(PluginError, match="no plugin template 'database'"):
        plugins.new("acme-db", tmp_path / "x", template="database")


def test_folder_without_go_mod(tmp_path):
    (tmp_path / "main.go").write_text("package main\n")
    with pytest.raises(NoGoModule) as err:
        plugins.open_source(tmp_path, name="acme")
    assert "has no go.mod" in err.value.problem and "go mod init" in err.value.fix


def test_missing_folder(tmp_path):
    with pytest.raises(PluginError, match="does not exist"):
        plugins.open_source(tmp_path / "nope")


def test_kind_must_be_known_for_foreign_source(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/x\n")
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    with pytest.raises(PluginError, match="secrets engine or an auth method"):
        plugins.open_source(tmp_path, name="acme-x")
    assert plugins.open_source(tmp_path, name="acme-x", kind="auth").kind == "auth"


def test_edit_and_digest(tmp_path):
    src = plugins.new("acme-secrets", tmp_path / "p")
    before = src.digest()
    assert src.digest() == before
    plugins.edit(src, "backend/path_creds.go", "// labkit:extra-response-fields", '"issued_at": "now",')
    assert src.digest() != before
    # a second run of the same edit is a no-op, not an error
    plugins.edit(src, "backend/path_creds.go", "// labkit:extra-response-fields", '"issued_at": "now",')
    with pytest.raises(PluginError, match="0 copies"):
        plugins.edit(src, "main.go", "text that is not there", "replacement that is not there either")
    (src.folder / "README.txt").write_text("not a source file")
    assert src.digest() == src.digest()


def test_elf_checks(tmp_path):
    from labkit.server.binary import find_server_binary

    bao = find_server_binary().path
    assert plugins.elf_interpreter(bao) is None  # the static server binary
    dynamic = Path(shutil.which("ls") or "/bin/ls").resolve()
    interp = plugins.elf_interpreter(dynamic)
    assert interp and "ld-linux" in interp
    with pytest.raises(DynamicallyLinked) as err:
        plugins.require_static(dynamic)
    assert "CGO_ENABLED=0" in err.value.fix
    script = tmp_path / "plugin.sh"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PluginError, match="not an ELF executable"):
        plugins.elf_interpreter(script)


def test_go_not_found(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("LABKIT_GO", "/nonexistent/go")
    monkeypatch.setattr(sys.modules["labkit.doctor"], "GO_DEFAULT", "/nonexistent/go")
    with pytest.raises(plugins.GoNotFound) as err:
        plugins.go_binary()
    assert "go.dev/doc/install" in err.value.fix


def test_bad_version_refused(tmp_path):
    src = plugins.new("acme-secrets", tmp_path / "p")
    with pytest.raises(PluginError, match="not a semantic version"):
        plugins.build(src, version="1.0")


def test_cli_new_and_clear_errors(tmp_path, capsys):
    from labkit.plugins.cli import main

    assert main(["new", "acme-secrets", str(tmp_path / "p"), "--template", "secrets"]) == 0
    assert (tmp_path / "p" / "go.mod").is_file()
    assert main(["build", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Fix:" in err
    (tmp_path / "empty").mkdir()
    assert main(["test", str(tmp_path / "empty"), "--unit-only"]) == 1
    assert "has no go.mod" in capsys.readouterr().err


def test_new_with_replace_starts_afresh(tmp_path):
    src = plugins.new("acme-secrets", tmp_path / "p")
    first = src.digest()
    plugins.edit(src, "backend/path_creds.go", "// labkit:extra-response-fields", '"issued_at": "now",')
    assert plugins.new("acme-secrets", tmp_path / "p", replace=True).digest() == first

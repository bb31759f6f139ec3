import os
import stat

import pytest

from labkit.errors import WorkspaceError
from labkit.workspace import Workspace, check_name, write_private


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_workspace_folders_are_private(tmp_path):
    ws = Workspace("demo", tmp_path / "home").ensure()
    for folder in (ws.home, ws.root, ws.config_dir, ws.data_dir, ws.logs_dir, ws.tls_dir):
        assert mode(folder) == 0o700, folder
    ws.write_json("credentials.json", {"x": 1})
    assert mode(ws.path("credentials.json")) == 0o600
    assert ws.permission_problems() == []


def test_permission_problems_are_reported(tmp_path):
    ws = Workspace("demo", tmp_path).ensure()
    leaky = ws.path("leaky.txt")
    leaky.write_text("x")
    os.chmod(leaky, 0o644)
    assert any("leaky.txt" in p for p in ws.permission_problems())


@pytest.mark.parametrize("bad", ["", "Upper", "-dash", "a/b", "x" * 41, "../up"])
def test_bad_lab_names_get_a_clear_error(bad):
    with pytest.raises(WorkspaceError) as err:
        check_name(bad)
    assert "Fix:" in str(err.value)


def test_corrupt_record_names_the_file_and_the_fix(tmp_path):
    ws = Workspace("demo", tmp_path).ensure()
    ws.path("state.json").write_text("{not json")
    with pytest.raises(WorkspaceError) as err:
        ws.read_json("state.json")
    assert "state.json" in str(err.value) and "labkit stop demo --purge" in str(err.value)


def test_home_that_is_a_file_is_a_clear_error(tmp_path):
    home = tmp_path / "file"
    home.write_text("not a folder")
    with pytest.raises(WorkspaceError) as err:
        Workspace("demo", home).ensure()
    assert "cannot be used" in str(err.value) and "LABKIT_HOME" in str(err.value)


def test_write_private_is_atomic_and_private(tmp_path):
    target = tmp_path / "a" / "secret.txt"
    write_private(target, "one")
    write_private(target, "two")
    assert target.read_text() == "two" and mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["secret.txt"]

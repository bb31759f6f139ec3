"""The lab's PostgreSQL: a real server started through the supervisor."""

from __future__ import annotations

import os
import tempfile

import pytest

from labkit.errors import LabError
from labkit.redact import redact
from labkit.services import postgres as pgmod
from labkit.services.postgres import PostgresServer
from labkit.workspace import Workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg():
    # One server for the module (initdb takes seconds), under the suite's LABKIT_HOME.
    home = tempfile.mkdtemp(prefix="pg-", dir=os.environ["LABKIT_HOME"])
    server = PostgresServer(Workspace("pg", home), lifetime="ephemeral").start()
    yield server
    server.stop()


def test_start_query_create_database_and_restart(pg):
    assert pg.running and pg.port
    assert pg.query("select 1 + 1 as two") == [{"two": "2"}]
    pg.create_database("vault_storage")
    pg.create_database("vault_storage")  # a second call is a no-op
    assert "vault_storage" in pg.databases()
    pg.execute("create table t (k text primary key, v text); insert into t values ('a', 'b')",
               database="vault_storage")
    pg.stop(purge=False)
    assert not pg.running
    pg.start()
    assert pg.query("select v from t where k = 'a'", database="vault_storage") == [{"v": "b"}]


def test_dsn_and_password_are_secrets(pg):
    dsn = pg.dsn("postgres")
    assert dsn.startswith(f"postgres://{pg.superuser}:") and f"127.0.0.1:{pg.port}/postgres" in dsn
    assert pg.password.reveal() not in repr(pg.password)
    assert pg.password.reveal() not in redact(dsn)
    pg.create_role("app", "app-password-123")
    assert pg.dsn(user="app", password="x").startswith("postgres://app:x@")


def test_server_runs_unprivileged_and_private(pg):
    import psutil

    owner = psutil.Process(pg.process.pid).username()
    assert owner == ("postgres" if os.geteuid() == 0 else psutil.Process().username())
    assert (pg.folder.stat().st_mode & 0o077) == 0
    assert pg.workspace.permission_problems() == []
    assert str(pg.workspace.root) in " ".join(psutil.Process(pg.process.pid).cmdline())


def test_bad_sql_raises_a_clear_error(pg):
    with pytest.raises(LabError, match="does not exist"):
        pg.execute("select * from no_such_table")
    with pytest.raises(LabError, match="not a valid database name"):
        pg.create_database("Robert'); drop table students;--")


def test_missing_postgres_names_the_install_command(lab_home, monkeypatch):
    monkeypatch.setattr(pgmod, "postgres_bin_dir", lambda: None)
    with pytest.raises(LabError) as err:
        PostgresServer(Workspace("nopg"), lifetime="ephemeral").start()
    assert "install" in str(err.value) and "postgresql" in str(err.value)


def test_ephemeral_stop_leaves_no_process(lab_home):
    import psutil

    server = PostgresServer(Workspace("pg2"), lifetime="ephemeral").start()
    pid = server.process.pid
    children = [c.pid for c in psutil.Process(pid).children(recursive=True)]
    server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not any(psutil.pid_exists(c) and psutil.Process(c).status() != psutil.STATUS_ZOMBIE for c in children)


def test_stop_recorded_stops_and_purges_by_folder(lab_home):
    from labkit.services.postgres import stop_recorded

    server = PostgresServer(Workspace("pg3"), lifetime="ephemeral").start()
    folder = server.folder
    assert stop_recorded(Workspace("pg3"), purge=True) is True
    assert not server.running and not folder.exists()
    assert stop_recorded(Workspace("pg3")) is False


def test_labkit_stop_finds_postgres_by_its_lab_folder(pg):
    from labkit.services.supervisor import processes_under

    assert pg.process.pid in {p.pid for p in processes_under(pg.workspace.root)}

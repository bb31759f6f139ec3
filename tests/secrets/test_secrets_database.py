"""The database engine against a real PostgreSQL that labkit starts."""

import pytest

from labkit.errors import LabError
from labkit.secrets import Leases, PostgresSecrets


@pytest.fixture(scope="module")
def db(lab):
    from labkit.services.postgres import PostgresServer

    pg = PostgresServer(lab).start()
    db = PostgresSecrets(lab.client, pg, mount="db-test")
    db.prepare_database()
    db.configure(allowed_roles=["readonly"])
    db.create_role("readonly", default_ttl="1m", max_ttl="5m")
    yield db
    db.disconnect()
    pg.stop()


def test_dynamic_credentials_log_in_renew_and_revoke(db, lab):
    cred = db.credentials("readonly")
    assert "****" in repr(cred) and cred.password.reveal() not in repr(cred)
    assert db.role_exists(cred.username)
    assert db.login(cred) == cred.username
    assert db.login(cred, "select count(*) from inventory") == "3"

    leases = Leases(lab.client)
    assert cred.lease_id in leases.list("db-test/creds")
    before = db.valid_until(cred.username)
    assert leases.renew(cred.lease_id, 240) > cred.lease_duration
    assert db.valid_until(cred.username) > before

    leases.revoke(cred.lease_id)
    assert not db.role_exists(cred.username)
    assert not db.can_login(cred)
    with pytest.raises(LabError, match="revoked or has expired"):
        leases.lookup(cred.lease_id)


def test_revoke_prefix_drops_every_role(db, lab):
    creds = [db.credentials("readonly") for _ in range(2)]
    leases = Leases(lab.client)
    assert len(leases.table("db-test/creds")) == 2
    leases.revoke_prefix("db-test/creds/readonly")
    assert leases.list("db-test/creds") == []
    assert not any(db.role_exists(c.username) for c in creds)


def test_bad_role_and_bad_connection(db, lab):
    with pytest.raises(LabError, match="No credentials from role 'writer'"):
        db.credentials("writer")

    class Stopped:
        port, superuser = 1, "nobody"
        password = type("S", (), {"reveal": lambda self: "x"})()

    with pytest.raises(LabError, match="cannot reach PostgreSQL"):
        PostgresSecrets(lab.client, Stopped(), mount="db-broken").configure()

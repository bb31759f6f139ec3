"""The PostgreSQL storage backend: a durable lab whose data lives in a real PostgreSQL."""

from __future__ import annotations

import os
import tempfile

import pytest

from labkit.storage.conformance import LabTarget, ResultsTable, durability_cycles, run_conformance
from labkit.storage.postgresql import TABLE, postgresql_stanza, start_postgres_lab, storage_row_count, storage_rows

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_lab():
    home = tempfile.mkdtemp(prefix="pgstore-", dir=os.environ["LABKIT_HOME"])
    lab, pg = start_postgres_lab("pgstore", lifetime="ephemeral", home=home)
    yield lab, pg
    lab.stop()
    pg.stop()


def test_server_keeps_its_data_in_postgres_and_passes_conformance(pg_lab):
    lab, pg = pg_lab
    assert lab.status().storage == "postgresql"
    stanza = postgresql_stanza(pg)
    assert 'storage "postgresql"' in stanza and f"127.0.0.1:{pg.port}/openbao" in stanza
    before = storage_row_count(pg)
    lab.client.sys.enable_secrets_engine("kv", path="pgkv", options={"version": "1"})
    lab.client.secrets.kv.v1.create_or_update_secret("in-postgres", {"v": "x"}, mount_point="pgkv")
    assert storage_row_count(pg) > before
    rows = storage_rows(pg, prefix="logical/")
    assert rows and all(r["path"].startswith("/logical/") for r in rows)
    # The value in the table is encrypted by the barrier: the plaintext never appears.
    dump = pg.query(f"select encode(value, 'escape') as v from {TABLE}", "openbao")
    assert not any('"v":"x"' in r["v"] for r in dump)

    report = run_conformance(LabTarget(lab, "postgresql"), durability_writes=15, writers=3, per_writer=5)
    assert report.ok, str(report)
    table = ResultsTable([report])
    assert "PASS" in table._repr_html_() and "FAIL" not in table._repr_html_()


def test_durability_cycles_lose_nothing(pg_lab):
    lab, _ = pg_lab
    rows = durability_cycles(LabTarget(lab, "postgresql"), writes=10, cycles=2)
    assert [r["total"] for r in rows] == [10, 20]
    assert sum(r["lost"] for r in rows) == 0

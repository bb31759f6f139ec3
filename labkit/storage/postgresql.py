"""The PostgreSQL storage backend: the same server API, data in PostgreSQL tables.

PostgreSQL itself runs through :class:`labkit.services.postgres.PostgresServer` (the
lab's one way to run it); this module renders the ``storage "postgresql"`` stanza and
starts a durable lab on it.
"""

from __future__ import annotations

from ..server.config import hcl_str, render
from ..services.postgres import PostgresServer, check_identifier
from ..workspace import Workspace

TABLE = "openbao_kv_store"


def postgresql_stanza(pg: PostgresServer, database: str = "openbao", table: str = TABLE,
                      max_parallel: int = 16) -> str:
    """The ``storage "postgresql"`` block for ``database`` on ``pg`` (holds its password:
    the lab writes it into a 0600 config file and the redactor knows the password)."""
    check_identifier(table, "table name")
    return render("server/storage-postgresql.hcl.tmpl", connection_url=hcl_str(pg.dsn(database)),
                  table=hcl_str(table), max_parallel=str(int(max_parallel)))


def start_postgres_lab(name: str = "pgstore", *, lifetime: str = "auto", database: str = "openbao",
                       timeout: float | None = None, export_env: bool = False, home=None):
    """PostgreSQL in lab folder ``name``, then a durable lab storing its data there.

    Returns ``(lab, pg)``; stop both with ``lab.stop(); pg.stop()``.
    """
    from ..lab import VaultLab

    pg = PostgresServer(Workspace(name, home), lifetime=lifetime).start()
    try:
        pg.create_database(database)
        lab = VaultLab(name, mode="durable", home=home, lifetime=pg.lifetime.value, timeout=timeout, export_env=export_env,
                       storage_config=postgresql_stanza(pg, database))
        lab.start()
    except BaseException:
        pg.stop()
        raise
    return lab, pg


def storage_rows(pg: PostgresServer, database: str = "openbao", prefix: str = "", limit: int = 20) -> list[dict]:
    """Rows of the server's table: ``path``, ``key`` and the size of the (encrypted) value."""
    like = prefix.replace("'", "''").replace("%", r"\%").replace("_", r"\_")
    return pg.query(f"select path, key, length(value) as bytes from {TABLE} "
                    f"where path like '/{like}%' order by path, key limit {int(limit)}", database)


def storage_row_count(pg: PostgresServer, database: str = "openbao") -> int:
    return int(pg.query(f"select count(*) as n from {TABLE}", database)[0]["n"])

"""The database secrets engine against the lab's real PostgreSQL.

The engine holds a privileged connection; every ``creds/:role`` read creates a new
PostgreSQL role with a random password and a lease. Renewing the lease extends the
role's ``VALID UNTIL``; revoking it (or letting it expire) drops the role.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import hvac
from hvac.exceptions import InvalidRequest

from ..errors import LabError
from ..redact import Secret, redact
from .engines import enable_engine, mounted_engines

PLUGIN = "postgresql-database-plugin"

CREATION = [
    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";",
]
RENEW = ["ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}';"]
REVOCATION = [
    "REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM \"{{name}}\";",
    "DROP ROLE IF EXISTS \"{{name}}\";",
]


@dataclass
class DynamicCredential:
    """A username/password pair the engine created, with its lease."""

    username: str
    password: Secret = field(repr=False)
    lease_id: str
    lease_duration: int
    renewable: bool

    def __repr__(self) -> str:
        return (f"DynamicCredential(username={self.username!r}, password=****, lease_id={self.lease_id!r}, "
                f"ttl={self.lease_duration}s, renewable={self.renewable})")


class PostgresSecrets:
    """A database engine at ``mount`` wired to a running :class:`PostgresServer`."""

    def __init__(self, client: hvac.Client, postgres, mount: str = "database", connection: str = "lab-postgres",
                 database: str = "appdb"):
        self.client = client
        self.postgres = postgres
        self.mount = mount.strip("/")
        self.connection = connection
        self.database = database

    def __repr__(self) -> str:
        return f"PostgresSecrets(mount={self.mount!r}, connection={self.connection!r}, database={self.database!r})"

    def prepare_database(self, table: str = "inventory") -> str:
        """Create the application database and a table with a few rows (as the superuser)."""
        self.postgres.create_database(self.database)
        self.postgres.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id serial primary key, item text not null);"
            f"INSERT INTO {table} (item) SELECT x FROM (VALUES ('hsm'), ('kms'), ('plugin')) v(x) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table});", self.database)
        return table

    def configure(self, allowed_roles: list[str] | None = None, fresh: bool = True) -> dict:
        """Mount the engine and ``POST /v1/:mount/config/:connection``: the server checks
        the connection at once (``verify_connection``)."""
        enable_engine(self.client, "database", self.mount, fresh=fresh)
        url = (f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{self.postgres.port}/"
               f"{self.database}?sslmode=disable")
        try:
            self.client.write_data(f"{self.mount}/config/{self.connection}", data={
                "plugin_name": PLUGIN, "connection_url": url, "username": self.postgres.superuser,
                "password": self.postgres.password.reveal(), "allowed_roles": allowed_roles or ["*"],
                "verify_connection": True, "password_authentication": "scram-sha-256",
            })
        except InvalidRequest as exc:
            raise LabError(f"The database engine cannot reach PostgreSQL: {redact(str(exc))}",
                           "Start PostgreSQL first (PostgresServer(lab).start()) and pass that server here.") from None
        data = self.client.read(f"{self.mount}/config/{self.connection}")["data"]
        return {k: data.get(k) for k in ("plugin_name", "connection_details", "allowed_roles")}

    def create_role(self, name: str, default_ttl: str = "1m", max_ttl: str = "10m") -> dict:
        """``POST /v1/:mount/roles/:name``: SQL run to create, renew and revoke a user."""
        self.client.write_data(f"{self.mount}/roles/{name}", data={
            "db_name": self.connection, "creation_statements": CREATION, "renew_statements": RENEW,
            "revocation_statements": REVOCATION, "default_ttl": default_ttl, "max_ttl": max_ttl,
        })
        return self.client.read(f"{self.mount}/roles/{name}")["data"]

    def credentials(self, role: str) -> DynamicCredential:
        """``GET /v1/:mount/creds/:role``: a new PostgreSQL user, with a lease."""
        try:
            resp = self.client.read(f"{self.mount}/creds/{role}")
        except InvalidRequest as exc:
            raise LabError(f"No credentials from role {role!r}: {redact(str(exc))}",
                           "Create the role with create_role(name) and check it is in allowed_roles.") from None
        if resp is None:
            raise LabError(f"There is no role {role!r} at {self.mount}/.", "Create it with create_role(name).")
        data = resp["data"]
        return DynamicCredential(data["username"], Secret(data["password"], "database-password"),
                                 resp["lease_id"], resp["lease_duration"], resp["renewable"])

    def disconnect(self) -> None:
        """``DELETE /v1/sys/mounts/:mount``: revokes every lease (dropping its role) and
        closes the engine's connections, so PostgreSQL can then stop at once."""
        if self.mount + "/" in mounted_engines(self.client):
            self.client.sys.disable_secrets_engine(path=self.mount)

    def role_exists(self, username: str) -> bool:
        """Whether PostgreSQL has this role (``pg_roles``)."""
        name = username.replace("'", "''")
        return bool(self.postgres.query(f"select 1 from pg_roles where rolname = '{name}'"))

    def valid_until(self, username: str) -> str:
        name = username.replace("'", "''")
        rows = self.postgres.query(f"select rolvaliduntil from pg_roles where rolname = '{name}'")
        return rows[0]["rolvaliduntil"] if rows else ""

    def login(self, cred: DynamicCredential, sql: str = "select current_user") -> str:
        """Log in to PostgreSQL over TCP as ``cred`` with ``psql`` and run ``sql``;
        returns the first column of the output. Raises :class:`LabError` if the login fails."""
        psql = Path(self.postgres_bin() / "psql")
        if not psql.exists():
            psql = Path(shutil.which("psql") or "psql")
        env = {**os.environ, "PGPASSWORD": cred.password.reveal(), "PGCONNECT_TIMEOUT": "5", "LC_ALL": "C.UTF-8"}
        result = subprocess.run(
            [str(psql), "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p", str(self.postgres.port),
             "-U", cred.username, "-d", self.database, "-c", sql],
            capture_output=True, text=True, env=env, timeout=30)
        if result.returncode != 0:
            raise LabError(f"PostgreSQL refused {cred.username}: {redact(result.stderr.strip())}",
                           "The lease may have been revoked or expired: read new credentials.")
        return result.stdout.strip()

    def can_login(self, cred: DynamicCredential) -> bool:
        try:
            return self.login(cred) == cred.username
        except LabError:
            return False

    @staticmethod
    def postgres_bin() -> Path:
        from ..services.postgres import find_bin_dir

        return find_bin_dir()

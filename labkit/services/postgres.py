"""The lab's one way to run PostgreSQL: a private cluster on 127.0.0.1.

``PostgresServer(lab_or_workspace).start()`` runs ``initdb`` once and ``postgres``
through the supervisor with the lab's lifetime, on a free loopback port, with a
generated superuser password (a :class:`~labkit.redact.Secret`). Clients reach it
over TCP with that password; the Unix socket lives in a private folder.

PostgreSQL refuses to run as root. When the lab runs as root (CI, containers), the
server runs as the unprivileged ``postgres`` account. That account cannot walk into
the lab folder (0700, owned by root), so its cluster folder is a ``postgres``-owned
0700 folder in the system temp dir and the lab folder holds a symlink ``postgres``
to it. As any other user the cluster folder is ``<lab>/postgres`` itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from ..doctor import postgres_bin_dir
from ..errors import LabError, ServerStartError
from ..redact import Secret, redact
from ..workspace import Workspace
from .supervisor import LOOPBACK, LabProcess, Lifetime, free_port, require_free_port, spawn

STATE_FILE = "postgres.json"
RUN_AS_ROOT_USER = "postgres"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresError(LabError):
    """PostgreSQL is missing, did not start, or refused a statement."""


def _install_hint() -> str:
    if shutil.which("brew"):
        return "brew install postgresql@15 (or set LABKIT_PG_BIN to the folder holding initdb)"
    prefix = "" if os.geteuid() == 0 else "sudo "
    return f"{prefix}apt-get install -y postgresql (or set LABKIT_PG_BIN to the folder holding initdb)"


def find_bin_dir() -> Path:
    """The folder with ``initdb``, ``postgres`` and ``psql``; a clear error if absent."""
    found = postgres_bin_dir()
    if found is None or not (found / "postgres").exists():
        raise PostgresError("PostgreSQL is not installed: no initdb/postgres found "
                            "(looked at $LABKIT_PG_BIN, PATH and /usr/lib/postgresql/*/bin).",
                            _install_hint())
    return found


def check_identifier(name: str, what: str = "database name") -> str:
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise PostgresError(f"{name!r} is not a valid {what}.",
                            "Use 1-63 lowercase letters, digits or '_', starting with a letter or '_'.")
    return name


class PostgresServer:
    """A PostgreSQL server owned by one lab (or one workspace).

    ``lab_or_workspace`` is a :class:`labkit.VaultLab` (its workspace and lifetime are
    used) or a :class:`labkit.workspace.Workspace`.
    """

    def __init__(self, lab_or_workspace, lifetime: str | Lifetime | None = None, *,
                 port: int | None = None, superuser: str = "labkit", timeout: float = 30.0):
        workspace = getattr(lab_or_workspace, "workspace", lab_or_workspace)
        if not isinstance(workspace, Workspace):
            raise PostgresError(f"PostgresServer needs a VaultLab or a Workspace, not {type(lab_or_workspace).__name__}.",
                                "Pass the lab: PostgresServer(lab).")
        self.workspace = workspace
        if lifetime is None:
            lifetime = getattr(lab_or_workspace, "lifetime", None)
        self.lifetime = Lifetime.resolve(lifetime)
        self.superuser = check_identifier(superuser, "superuser name")
        self.timeout = timeout
        self._wanted_port = port
        self.port: int | None = None
        self.password: Secret | None = None
        self.process: LabProcess | None = None
        self.run_as = RUN_AS_ROOT_USER if os.geteuid() == 0 else None

    def __repr__(self) -> str:
        state = f"127.0.0.1:{self.port}" if self.running else "stopped"
        return f"PostgresServer({self.workspace.name!r}, {state}, {self.lifetime.value})"

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # Folders -------------------------------------------------------------
    @property
    def folder(self) -> Path:
        """The cluster folder (data, socket, password file), owned by the server's user."""
        if self.run_as is None:
            return self.workspace.path("postgres")
        digest = hashlib.sha256(str(self.workspace.root.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"labkit-pg-{self.workspace.name}-{digest}"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    @property
    def log_path(self) -> Path:
        return self.workspace.logs_dir / "postgres.log"

    def _prepare_folder(self) -> None:
        self.workspace.ensure()
        folder = self.folder
        if self.run_as is None:
            for path in (folder, self.socket_dir):
                path.mkdir(mode=0o700, exist_ok=True)
            return
        account = pwd.getpwnam(self.run_as)
        if folder.is_symlink() or (folder.exists() and folder.stat().st_uid != account.pw_uid):
            raise PostgresError(f"{folder} exists but is not a folder owned by {self.run_as}.",
                                f"Remove it (rm -rf {folder}) and start again.")
        for path in (folder, self.socket_dir):
            path.mkdir(mode=0o700, exist_ok=True)
            os.chown(path, account.pw_uid, account.pw_gid)
            os.chmod(path, 0o700)
        link = self.workspace.path("postgres")
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link)
            link.symlink_to(folder)

    def _own(self, path: Path) -> None:
        if self.run_as is not None:
            account = pwd.getpwnam(self.run_as)
            os.chown(path, account.pw_uid, account.pw_gid)

    # Life ----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    def start(self) -> "PostgresServer":
        """initdb (first time only), then ``postgres`` on 127.0.0.1; waits until it answers."""
        if self.running:
            return self
        bin_dir = find_bin_dir()
        if self._reattach():
            return self
        if self.run_as is not None:
            try:
                pwd.getpwnam(self.run_as)
            except KeyError:
                raise PostgresError("PostgreSQL refuses to run as root and there is no 'postgres' account.",
                                    "Install the Debian package (apt-get install -y postgresql), which creates it, "
                                    "or run the lab as an ordinary user.") from None
        self._prepare_folder()
        state = self.workspace.read_json(STATE_FILE) or {}
        if not (self.data_dir / "PG_VERSION").exists():
            state["password"] = secrets.token_urlsafe(24)
            self.password = Secret(state["password"], "postgres-password")
            self._initdb(bin_dir)
        elif state.get("password"):
            self.password = Secret(state["password"], "postgres-password")
        else:
            raise PostgresError(f"The PostgreSQL data in {self.data_dir} has no recorded password.",
                                f"Remove {self.folder} to start from an empty cluster.")
        self.port = require_free_port(self._wanted_port, "PostgreSQL") if self._wanted_port else free_port()
        argv = [str(bin_dir / "postgres"), "-D", str(self.data_dir),
                "-c", f"listen_addresses={LOOPBACK}", "-p", str(self.port),
                "-k", str(self.socket_dir), "-c", "max_connections=60",
                "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning",
                # Names the lab in the postmaster's command line, so `ps` and orphan
                # checks see which lab it belongs to even when its folder lies outside.
                "-c", f"labkit.lab={self.workspace.root}/"]
        self.process = spawn("postgres", argv, self.log_path, self.lifetime,
                             env={"LC_ALL": "C.UTF-8"}, cwd=self.folder, user=self.run_as)
        self.process.wait_until(self._answers, self.timeout, f"accepting connections on 127.0.0.1:{self.port}",
                                interval=0.05)
        state.update(port=self.port, superuser=self.superuser, folder=str(self.folder),
                     process=self.process.record())
        self.workspace.write_json(STATE_FILE, state)
        return self

    def _reattach(self) -> bool:
        state = self.workspace.read_json(STATE_FILE)
        if not state or not state.get("process"):
            return False
        proc = LabProcess.attach(state["process"])
        if proc is None:
            return False
        if proc.lifetime is Lifetime.EPHEMERAL:
            # An ephemeral server belongs to the Python process that started it.
            return False
        self.process, self.port = proc, int(state["port"])
        self.superuser = state.get("superuser", self.superuser)
        self.password = Secret(state["password"], "postgres-password")
        return True

    def _initdb(self, bin_dir: Path) -> None:
        pwfile = self.folder / "initdb.pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.password.reveal() + "\n")
        self._own(pwfile)
        try:
            result = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.superuser,
                 f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=peer",
                 "-E", "UTF8", "--locale=C", "--no-instructions"],
                capture_output=True, text=True, cwd=self.folder, user=self.run_as,
                env={**os.environ, "LC_ALL": "C.UTF-8"}, timeout=120)
        finally:
            pwfile.unlink(missing_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as log:
            log.write(redact(result.stdout + result.stderr))
        if result.returncode != 0:
            raise ServerStartError(f"initdb failed (status {result.returncode}):\n{redact(result.stderr)[-2000:]}",
                                   f"Read {self.log_path}; remove {self.folder} to start from scratch.")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                pass
        except OSError:
            return False
        return self._psql(["-c", "select 1"], check=False).returncode == 0

    def stop(self, purge: bool | None = None) -> None:
        """Stop the server (a fast shutdown: SIGTERM waits for nothing but a checkpoint).

        ``purge`` (default: True for an ephemeral server running as another user, whose
        cluster folder lies outside the lab folder) deletes the data too.
        """
        if self.process is not None:
            if self.process.alive():
                # SIGINT is PostgreSQL's "fast" shutdown: it ends sessions instead of
                # waiting for clients to leave (SIGTERM's "smart" mode), still checkpointing.
                import signal

                self.process.signal(signal.SIGINT)
            self.process.stop(timeout=15)
        state = self.workspace.read_json(STATE_FILE) if self.workspace.exists() else None
        if state is not None:
            state.pop("process", None)
            self.workspace.write_json(STATE_FILE, state)
        if purge is None:
            purge = self.lifetime is Lifetime.EPHEMERAL and self.run_as is not None
        if purge:
            self.purge()

    def purge(self) -> None:
        """Delete the cluster's data (the server must be stopped)."""
        if self.running:
            raise PostgresError("PostgreSQL is still running.", "Call stop() first.")
        shutil.rmtree(self.folder, ignore_errors=True)
        link = self.workspace.path("postgres")
        if link.is_symlink():
            link.unlink()
        self.workspace.delete(STATE_FILE)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would."""
        if self.process is not None:
            self.process.kill()

    # Clients -------------------------------------------------------------
    def _require_running(self) -> None:
        if not self.running:
            raise PostgresError("PostgreSQL is not running.", "Call start() first.")

    def dsn(self, database: str | None = None, user: str | None = None, password: str | Secret | None = None) -> str:
        """``postgres://user:password@127.0.0.1:port/db?sslmode=disable`` (contains a secret:
        the password is registered with the redactor, so displays mask it)."""
        self._require_running()
        user = user or self.superuser
        if password is None:
            password = self.password if user == self.superuser else None
        secret = password.reveal() if isinstance(password, Secret) else password
        auth = quote(user, safe="")
        if secret:
            auth += ":" + quote(secret, safe="")
        return f"postgres://{auth}@{LOOPBACK}:{self.port}/{database or 'postgres'}?sslmode=disable"

    def _psql(self, args: list[str], database: str | None = None, check: bool = True,
              timeout: float = 60) -> subprocess.CompletedProcess:
        psql = find_bin_dir() / "psql"
        if not psql.exists():
            psql = Path(shutil.which("psql") or "psql")
        env = {**os.environ, "PGPASSWORD": self.password.reveal() if self.password else "",
               "PGCONNECT_TIMEOUT": "5", "LC_ALL": "C.UTF-8"}
        argv = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", LOOPBACK, "-p", str(self.port),
                "-U", self.superuser, "-d", database or "postgres", *args]
        result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise PostgresError(f"PostgreSQL refused the statement: {redact(result.stderr.strip())}",
                                "Fix the SQL above; `query()`/`execute()` run as the lab's superuser.")
        return result

    def execute(self, sql: str, database: str | None = None) -> None:
        """Run one or more SQL statements as the superuser (psql, stops at the first error)."""
        self._require_running()
        self._psql(["-c", sql], database)

    def query(self, sql: str, database: str | None = None) -> list[dict[str, str]]:
        """Rows of a query as dicts of text values (psql ``--csv``)."""
        self._require_running()
        out = self._psql(["--csv", "-c", sql], database).stdout
        return list(csv.DictReader(io.StringIO(out)))

    def databases(self) -> list[str]:
        return [r["datname"] for r in self.query("select datname from pg_database where not datistemplate order by 1")]

    def create_database(self, name: str, owner: str | None = None) -> str:
        """Create database ``name`` unless it exists; returns the name."""
        check_identifier(name)
        if name not in self.databases():
            owner_sql = f' OWNER "{check_identifier(owner, "role name")}"' if owner else ""
            self.execute(f'CREATE DATABASE "{name}"{owner_sql}')
        return name

    def create_role(self, name: str, password: str | Secret, superuser: bool = False,
                    createrole: bool = False) -> str:
        """Create (or update the password of) a login role."""
        check_identifier(name, "role name")
        secret = password.reveal() if isinstance(password, Secret) else password
        Secret(secret, "postgres-password")
        literal = "'" + secret.replace("'", "''") + "'"
        flags = (" SUPERUSER" if superuser else "") + (" CREATEROLE" if createrole else "")
        exists = self.query(f"select 1 from pg_roles where rolname = '{name}'")
        verb = "ALTER" if exists else "CREATE"
        self.execute(f'{verb} ROLE "{name}" WITH LOGIN{flags} PASSWORD {literal}')
        return name

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._answers():
            if time.monotonic() > deadline:
                raise PostgresError(f"PostgreSQL on port {self.port} did not answer within {timeout:g} s.",
                                    f"Read {self.log_path}.")
            time.sleep(0.1)


def stop_recorded(workspace: Workspace, purge: bool = False) -> bool:
    """Stop the PostgreSQL a lab folder's ``postgres.json`` records (for ``labkit stop``,
    which knows only the folder); ``purge`` also deletes its data, wherever it lies.
    Returns True when a running server was stopped."""
    state = workspace.read_json(STATE_FILE) if workspace.exists() else None
    if not state:
        return False
    proc = LabProcess.attach(state["process"]) if state.get("process") else None
    if proc is not None:
        import signal

        proc.signal(signal.SIGINT)
        proc.stop(timeout=15)
    if purge and state.get("folder"):
        folder = Path(state["folder"])
        if folder.name.startswith("labkit-pg-") or folder == workspace.path("postgres"):
            shutil.rmtree(folder, ignore_errors=True)
        workspace.delete(STATE_FILE)
    return proc is not None

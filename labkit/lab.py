"""The facade: one object owns a lab server's whole life.

``VaultLab`` finds the binary, renders the config from ``environments/``, starts the
server through the supervisor, initialises and unseals it, hands out an authenticated
``hvac.Client``, and stops, restarts, seals and unseals it. A persistent lab is found
again by name after a kernel restart instead of starting a second server::

    with VaultLab("demo", mode="durable", tls=True) as lab:
        lab.client.secrets.kv.v2.create_or_update_secret("hello", {"v": 1})

Modes:

Both modes mount a KV version 2 engine at ``secret/`` when they initialise.

* ``dev``: ``storage "inmem"``, one unseal key, ready in a fraction of a second; data
  is gone when the server stops. Unlike ``server -dev`` it prints no root token or
  unseal key into the server log, so the log can be shipped as evidence.
* ``durable``: raft storage in the lab folder, initialised with Shamir shares and
  unsealed with the stored keys at every start.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import hvac
import requests

from . import redact
from .credentials import LabCredentials
from .errors import LabError, ServerStartError, WorkspaceError
from .pki import LabCA
from .server.binary import ServerBinary, find_server_binary
from .server.config import render_server_config
from .services.supervisor import (
    LabProcess,
    Lifetime,
    free_port,
    port_is_free,
    processes_under,
    stop_processes,
    require_free_port,
    spawn,
)
from .workspace import Workspace, labkit_home, list_workspaces, write_private

MODES = ("dev", "durable")
STATE = "state.json"
SERVER_CONFIG = "server.hcl"
KV_MOUNT = "secret"


@dataclass(frozen=True)
class LabStatus:
    """What the status widget shows; safe to display (no credentials)."""

    name: str
    product: str
    version: str
    address: str
    running: bool
    initialized: bool | None
    sealed: bool | None
    storage: str | None
    seal_type: str | None
    mode: str
    lifetime: str
    tls: bool
    pid: int | None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def state_word(self) -> str:
        if not self.running:
            return "stopped"
        if self.initialized is False:
            return "not initialised"
        return "sealed" if self.sealed else "unsealed"

    def _repr_html_(self) -> str:
        from .ui.status import status_html

        return status_html(self)

    def __str__(self) -> str:
        return (f"{self.name}: {self.product} {self.version} at {self.address} - {self.state_word}, "
                f"storage {self.storage}, seal {self.seal_type}, {self.mode} mode, {self.lifetime}")


def _default_timeout() -> float:
    return float(os.environ.get("LABKIT_START_TIMEOUT", "60"))


class VaultLab:
    """A lab server: start/attach/stop, clients, restart, seal/unseal, status.

    ``backend`` (or ``$LABKIT_BACKEND``) picks where the server runs: ``process`` (the
    default) or ``container`` (Docker or Podman, see :mod:`labkit.containers`); the
    notebooks don't change."""

    def __new__(cls, *args, backend: str | None = None, **kwargs):
        if cls is VaultLab and _backend(backend) == "container":
            from .containers.backend import ContainerVaultLab

            return super().__new__(ContainerVaultLab)
        return super().__new__(cls)

    def __init__(self, name: str = "lab", *, mode: str = "dev", lifetime: str = "auto",
                 tls: bool = False, binary: str | Path | None = None, port: int | None = None,
                 home: str | Path | None = None, timeout: float | None = None,
                 key_shares: int = 3, key_threshold: int = 2, plugin_dir: str | Path | None = None,
                 storage_config: str | None = None, export_env: bool = True, backend: str | None = None):
        if mode not in MODES:
            raise LabError(f"Unknown mode {mode!r}.",
                           "Use mode='dev' (in memory, instant) or mode='durable' (raft storage, Shamir unseal).")
        if not 1 <= key_threshold <= key_shares <= 10:
            raise LabError(f"Cannot split the unseal key into {key_shares} shares with threshold {key_threshold}.",
                           "Use 1 <= key_threshold <= key_shares <= 10, e.g. key_shares=3, key_threshold=2.")
        if timeout is not None and timeout <= 0:
            raise LabError(f"timeout must be positive (got {timeout}).", "Pass a number of seconds, e.g. timeout=60.")
        self.backend = _backend(backend)
        self.workspace = Workspace(name, home)
        self.name = self.workspace.name
        self.mode = mode
        self.lifetime = Lifetime.resolve(lifetime)
        self.tls = bool(tls)
        self._binary_arg = binary
        self._requested_port = port
        self.timeout = timeout if timeout is not None else _default_timeout()
        self.key_shares = 1 if mode == "dev" else key_shares
        self.key_threshold = 1 if mode == "dev" else key_threshold
        self.plugin_dir = Path(plugin_dir) if plugin_dir else None
        # A ready storage stanza (e.g. storage "postgresql" {...}) replaces raft in durable mode.
        self.storage_config = storage_config
        if storage_config and mode != "durable":
            raise LabError("storage_config needs mode='durable'.", "Pass mode='durable' with a storage stanza.")
        self._export = export_env
        self.binary: ServerBinary | None = None
        self.process: LabProcess | None = None
        self.credentials: LabCredentials | None = None
        self.port: int | None = None
        self.cluster_port: int | None = None
        self._client: hvac.Client | None = None
        self._session: requests.Session | None = None
        self.attached = False
        self.last_restart: dict[str, float] = {}

    # Display ------------------------------------------------------------
    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (f"VaultLab({self.name!r}, mode={self.mode!r}, lifetime={self.lifetime.value!r}, "
                f"address={self.address!r}, {state}, root_token=****)")

    def _repr_html_(self) -> str:
        return self.status()._repr_html_() if self.running else f"<code>{self!r}</code>"

    # Addresses ----------------------------------------------------------------
    @property
    def address(self) -> str | None:
        if self.port is None:
            return None
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_cert(self) -> Path | None:
        return self.workspace.tls_dir / "ca.pem" if self.tls else None

    @property
    def ca(self) -> LabCA:
        """The lab CA (created on first use), for client certificates and TLS peers."""
        return LabCA(self.workspace.tls_dir).ensure()

    @property
    def log_path(self) -> Path:
        return self.workspace.logs_dir / "server.log"

    @property
    def config_dir(self) -> Path:
        return self.workspace.config_dir

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    @property
    def capabilities(self):
        return self._require_binary().capabilities

    def _require_binary(self) -> ServerBinary:
        if self.binary is None:
            self.binary = find_server_binary(self._binary_arg)
        return self.binary

    # HTTP -----------------------------------------------------------------
    def _verify(self):
        return str(self.ca_cert) if self.tls else True

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """A plain HTTP call to ``/v1/PATH`` (no token unless given in ``headers``), for
        unauthenticated endpoints and raw status codes. ``verify`` is passed on every
        call: a Session-level ``verify`` loses to ``REQUESTS_CA_BUNDLE`` in requests."""
        kwargs.setdefault("timeout", 5)
        return self._http().request(method, f"{self.address}/v1/{path}", verify=self._verify(), **kwargs)

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def health(self) -> dict:
        """``GET /v1/sys/health``, asked to answer 200 with a JSON body in every state
        (hvac returns a raw Response for sealed or uninitialised servers)."""
        resp = self.request(
            "GET", "sys/health",
            params={"standbyok": "true", "perfstandbyok": "true", "sealedcode": 200,
                    "uninitcode": 200, "drsecondarycode": 200},
        )
        resp.raise_for_status()
        return resp.json()

    def seal_status(self) -> dict:
        """``GET /v1/sys/seal-status`` (unauthenticated)."""
        resp = self.request("GET", "sys/seal-status")
        resp.raise_for_status()
        return resp.json()

    @property
    def client(self) -> hvac.Client:
        """An ``hvac.Client`` authenticated with the lab's root token."""
        if not self.running:
            raise LabError(f"Lab {self.name!r} is not running.", "Call lab.start() first.")
        if self._client is None:
            token = self.credentials.root_token.reveal() if self.credentials and self.credentials.root_token else None
            self._client = hvac.Client(url=self.address, token=token, verify=self._verify())
        return self._client

    def new_client(self, token: str | None = None) -> hvac.Client:
        """A client for this server with another token (or none, for logins)."""
        return hvac.Client(url=self.address, token=token, verify=self._verify())

    # Lifecycle -----------------------------------------------------------
    def __enter__(self) -> "VaultLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "VaultLab":
        """Start the lab, or attach to it when a server of this name already runs."""
        self._require_binary()
        self.workspace.ensure()
        state = self.workspace.read_json(STATE)
        existing = LabProcess.attach(state["process"]) if state and state.get("process") else None
        if existing is not None:
            self._attach(state, existing)
        else:
            if state:
                self._clear_stale(state)
            self._guard_durable_data()
            self._launch()
        if self._export:
            self.export_env()
        redact.install_output_guard()
        return self

    @classmethod
    def attach(cls, name: str, home: str | Path | None = None, export_env: bool = True) -> "VaultLab":
        """The running lab called ``name``; an error if it does not run."""
        state = Workspace(name, home).read_json(STATE)
        if not state or not state.get("process") or LabProcess.attach(state["process"]) is None:
            raise LabError(f"No running lab called {name!r}.",
                           "`labkit ps` lists running labs; start one with VaultLab(name).start().")
        lab = cls(name, mode=state["mode"], lifetime=state["process"]["lifetime"], tls=state["tls"],
                  binary=state["binary"], home=home, export_env=export_env,
                  backend=state.get("backend", "process"))
        return lab.start()

    def _attach(self, state: dict, process: LabProcess) -> None:
        mismatch = [f"{key}={state.get(key)!r}" for key, want in (("mode", self.mode), ("tls", self.tls))
                    if state.get(key) != want]
        if mismatch:
            raise LabError(
                f"Lab {self.name!r} is already running with {', '.join(mismatch)}.",
                f"Use it as it is (same settings), stop it first (`labkit stop {self.name}`), "
                "or give this lab another name.",
            )
        owner = state.get("owner") or {}
        if process.lifetime is Lifetime.EPHEMERAL and owner.get("pid") != os.getpid():
            raise LabError(
                f"Lab {self.name!r} is running as an ephemeral lab of another process (pid {owner.get('pid')}).",
                f"Give this lab another name, or stop that one with `labkit stop {self.name}`.",
            )
        if str(self._require_binary().path) != state.get("binary"):
            self.binary = find_server_binary(state["binary"])
        self.process = process
        self.lifetime = process.lifetime
        self.port = state["port"]
        self.cluster_port = state["cluster_port"]
        self.credentials = LabCredentials.load(self.workspace)
        self._client = None
        self.attached = True
        self._wait_answering()
        self._init_and_unseal()

    def _clear_stale(self, state: dict) -> None:
        """A state file whose process is gone (reboot, SIGKILL, crash): forget it; in
        dev mode the in-memory data went with the process, so the keys go too."""
        self.workspace.delete(STATE)
        if state.get("mode") == "dev":
            self.workspace.delete("credentials.json")

    def _guard_durable_data(self) -> None:
        raft = self.workspace.data_dir / "raft"
        if self.mode == "dev" and raft.is_dir() and any(raft.iterdir()):
            raise WorkspaceError(
                f"Lab {self.name!r} holds durable (raft) data; starting it in dev mode would "
                "overwrite its keys.",
                f"Start it with mode='durable', give the dev lab another name, or delete the durable "
                f"lab with `labkit stop {self.name} --purge`.",
            )

    def _choose_ports(self) -> None:
        state = self.workspace.read_json("ports.json") or {}
        if self._requested_port is not None:
            self.port = require_free_port(int(self._requested_port))
        elif state.get("port") and port_is_free(state["port"]):
            # A durable lab keeps its address across restarts when it can.
            self.port = state["port"]
        else:
            self.port = free_port()
        cluster = state.get("cluster_port")
        if cluster and cluster != self.port and port_is_free(cluster):
            self.cluster_port = cluster
        else:
            self.cluster_port = free_port()
            while self.cluster_port == self.port:
                self.cluster_port = free_port()

    def _render_config(self) -> Path:
        tls_cert = tls_key = None
        if self.tls:
            issued = self.ca.server_cert()
            tls_cert, tls_key = issued.cert_path, issued.key_path
        raft_dir = self.workspace.data_dir / "raft"
        if self.mode == "durable":
            raft_dir.mkdir(exist_ok=True, mode=0o700)
        if self.plugin_dir:
            self.plugin_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = render_server_config(
            binary=self.binary, storage="raft" if self.mode == "durable" else "inmem",
            api_port=self.port, cluster_port=self.cluster_port, data_dir=raft_dir,
            tls_cert=tls_cert, tls_key=tls_key, node_id=f"{self.name}-1",
            plugin_dir=self.plugin_dir, lab_name=self.name, storage_block=self.storage_config,
        )
        return write_private(self.config_dir / SERVER_CONFIG, text)

    def set_config_fragment(self, name: str, hcl: str | None) -> Path | None:
        """Add (or with ``None`` remove) ``config/NAME.hcl`` beside the main config;
        the server reads every ``.hcl`` in that folder at the next start or reload
        (audit devices, seals, KMS plugins...)."""
        path = self.config_dir / f"{name}.hcl"
        if name == Path(SERVER_CONFIG).stem:
            raise LabError(f"{name!r} is the main config's name.", "Choose another fragment name.")
        if hcl is None:
            path.unlink(missing_ok=True)
            return None
        return write_private(path, hcl)

    def _launch(self) -> None:
        self._spawn_server()
        try:
            self._init_and_unseal()
        except BaseException:
            self.stop()
            raise

    def _spawn_server(self) -> None:
        """Render the config, start the server and wait until it answers (any state)."""
        for attempt in range(3):
            self._choose_ports()
            self._render_config()
            self.process = self._server_process()
            try:
                self._wait_answering()
                break
            except ServerStartError as exc:
                clash = "address already in use" in self.process.tail(50)
                if clash and self._requested_port is None and attempt < 2:
                    # Another program took the port between our check and the server's bind.
                    self.workspace.delete("ports.json")
                    continue
                raise self._start_error(exc, clash) from exc
        self.workspace.write_json("ports.json", {"port": self.port, "cluster_port": self.cluster_port})
        self._write_state()

    def _server_process(self) -> LabProcess:
        """Start the server process (the container backend overrides this)."""
        return spawn("server", [str(self.binary.path), "server", f"-config={self.config_dir}"],
                     self.log_path, self.lifetime, env=self._server_env(), cwd=self.workspace.root)

    def _start_error(self, exc: ServerStartError, port_clash: bool) -> Exception:
        """The error to raise when the server did not come up (backends add advice)."""
        return exc

    def _server_env(self) -> dict:
        # Keep the server from reading a token or address meant for the CLI.
        return {"VAULT_ADDR": "", "BAO_ADDR": "", "VAULT_TOKEN": "", "BAO_TOKEN": ""}

    def _wait_answering(self) -> None:
        self.process.wait_until(lambda: bool(self.health()), self.timeout, "answering on " + self.address)

    def _wait_active(self) -> None:
        self.process.wait_until(
            lambda: (h := self.health()).get("initialized") and not h.get("sealed") and not h.get("standby"),
            self.timeout, "unsealed and active")

    def _init_and_unseal(self) -> None:
        health = self.health()
        if not health.get("initialized"):
            self._initialise()
        elif self.credentials is None:
            self.credentials = LabCredentials.load(self.workspace)
            if self.credentials is None:
                raise WorkspaceError(
                    f"Lab {self.name!r} holds an initialised server but its credentials.json is missing.",
                    f"Restore {self.workspace.path('credentials.json')} from a backup, or start afresh with "
                    f"`labkit stop {self.name} --purge` (this deletes the lab's data).",
                )
        if self.seal_status().get("sealed"):
            self.unseal()
        self._wait_active()

    def _initialise(self) -> None:
        """``PUT /v1/sys/init``: Shamir shares, or recovery shares behind an auto-unseal
        seal. Keys are saved (0600) before anything else can fail."""
        seal_type = self.seal_status().get("type", "shamir")
        if seal_type == "shamir":
            body = {"secret_shares": self.key_shares, "secret_threshold": self.key_threshold}
        else:
            body = {"recovery_shares": self.key_shares, "recovery_threshold": self.key_threshold}
        resp = self.request("PUT", "sys/init", json=body, timeout=self.timeout)
        if resp.status_code >= 400:
            raise ServerStartError(f"Initialising the server failed: {redact.redact(resp.text)}\n"
                                   f"Last lines of {self.log_path}:\n{self.process.tail()}",
                                   "Read the log lines above; a seal or storage error is named there.")
        fresh = LabCredentials.from_init(resp.json())
        if self.credentials is not None:
            # Credentials the lab kept before init (an HSM PIN, a KMS token) stay.
            fresh.extra.update(self.credentials.extra)
        self.credentials = fresh
        self.credentials.save(self.workspace)
        self._client = None
        if self.seal_status().get("sealed"):
            self.unseal()
        self._wait_active()
        # What `server -dev` gives, in both modes so lessons read the same: KV v2 at secret/.
        self.client.sys.enable_secrets_engine("kv", path=KV_MOUNT, options={"version": "2"})
        # A new KV v2 mount upgrades itself in the background and refuses writes until
        # done; `server -dev` waits for that too.
        headers = {"X-Vault-Token": self.credentials.root_token.reveal()}
        self.process.wait_until(
            lambda: self.request("GET", f"{KV_MOUNT}/config", headers=headers).status_code == 200,
            self.timeout, f"serving KV v2 at {KV_MOUNT}/", interval=0.01)

    def _write_state(self) -> None:
        self.workspace.write_json(STATE, {
            "name": self.name, "mode": self.mode, "tls": self.tls, "port": self.port,
            "cluster_port": self.cluster_port, "address": self.address,
            "binary": str(self.binary.path), "flavour": self.binary.flavour,
            "version": self.binary.version_string, "process": self.process.record(),
            "owner": {"pid": os.getpid()}, "backend": self.backend,
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        })
        write_private(self.workspace.home / "current", self.name + "\n")

    def stop(self, purge: bool = False) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and forget it; ``purge`` also deletes
        the lab folder with its data, logs and credentials."""
        if self.process is not None:
            self.process.stop()
        else:
            state = self.workspace.read_json(STATE) if self.workspace.exists() else None
            proc = LabProcess.attach(state["process"]) if state and state.get("process") else None
            if proc:
                proc.stop()
        if self.workspace.exists():
            self.workspace.delete(STATE)
            if self.mode == "dev":
                self.workspace.delete("credentials.json")
        self._client = None
        if purge:
            self.workspace.remove()

    def restart(self) -> float:
        """Stop and start the same server (same ports and folder); unseal it again.
        Returns the seconds from stop to unsealed. In dev mode the data is lost."""
        if self.process is None:
            raise LabError(f"Lab {self.name!r} is not running.", "Call lab.start() first.")
        began = time.perf_counter()
        self.process.stop()
        stopped = time.perf_counter()
        if self.mode == "dev":
            self.credentials = None
            self.workspace.delete("credentials.json")
        self._requested_port = self.port
        self._launch()
        if self._export:
            self.export_env()
        done = time.perf_counter()
        # The server's own graceful shutdown dominates a restart: keep both halves.
        self.last_restart = {"stop": stopped - began, "start_to_unsealed": done - stopped}
        return done - began

    def relaunch(self) -> LabProcess:
        """Stop the server and start it again on the same ports with the current config,
        waiting only until it answers: no init, no unseal. For lessons that unseal by
        hand (seal migration, ``sys/unseal`` with ``migrate``)."""
        if self.process is None:
            raise LabError(f"Lab {self.name!r} is not running.", "Call lab.start() first.")
        self.process.stop()
        self._requested_port = self.port
        self._spawn_server()
        return self.process

    def reload(self) -> None:
        """SIGHUP: the server re-reads the parts of its config that reload allows
        (log level, audit devices on OpenBao, TLS certificates) and reopens audit files."""
        import signal

        self.process.signal(signal.SIGHUP)

    def kill(self) -> None:
        """SIGKILL the server, as a crash or power cut would; ``start()`` brings it back."""
        self.process.kill()
        self.workspace.delete(STATE)

    def seal(self) -> None:
        """``PUT /v1/sys/seal``."""
        self.client.sys.seal()

    def unseal(self) -> dict:
        """``PUT /v1/sys/unseal`` with stored keys until the threshold is met."""
        if not self.credentials or not self.credentials.unseal_keys:
            status = self.seal_status()
            if status.get("type") != "shamir":
                return status  # auto-unseal seals unseal themselves
            raise LabError(f"Lab {self.name!r} has no stored unseal keys.",
                           f"Unseal it by hand with `{self.binary.cli_name} operator unseal`.")
        status = self.seal_status()
        for key in self.credentials.unseal_keys:
            if not status.get("sealed"):
                break
            resp = self.request("PUT", "sys/unseal", json={"key": key.reveal()}, timeout=30)
            if resp.status_code >= 400:
                raise LabError(f"Unseal failed: {redact.redact(resp.text)}",
                               "The stored keys do not match this server's data; restore credentials.json.")
            status = resp.json()
        return status

    def status(self) -> LabStatus:
        """``GET /v1/sys/seal-status``, summarised."""
        binary = self._require_binary()
        info = {}
        running = self.running
        if running:
            try:
                info = self.seal_status()
            except requests.RequestException:
                info = {}
        return LabStatus(
            name=self.name, product=binary.product, version=info.get("version", binary.version_string),
            address=self.address or "-", running=running, initialized=info.get("initialized"),
            sealed=info.get("sealed"), storage=info.get("storage_type") or ("raft" if self.mode == "durable" else "inmem"),
            seal_type=info.get("type"), mode=self.mode, lifetime=self.lifetime.value, tls=self.tls,
            pid=self.process.pid if self.process else None,
        )

    # Environment for a terminal -----------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """``VAULT_*`` and ``BAO_*`` variables for the CLI (the token included)."""
        token = self.credentials.root_token.reveal() if self.credentials and self.credentials.root_token else ""
        env = {}
        for prefix in ("VAULT", "BAO"):
            env[f"{prefix}_ADDR"] = self.address
            env[f"{prefix}_TOKEN"] = token
            if self.tls:
                env[f"{prefix}_CACERT"] = str(self.ca_cert)
        return env

    def export_env(self) -> Path:
        """Set the CLI variables in this process and write them to ``env.sh`` (0600), so
        `eval "$(labkit env NAME)"` in a JupyterLab terminal points the CLI here."""
        for key in ("VAULT_CACERT", "BAO_CACERT"):
            os.environ.pop(key, None)
        os.environ.update(self.env)
        lines = [f"export {k}='{v}'" for k, v in self.env.items()]
        return write_private(self.workspace.path("env.sh"), "\n".join(lines) + "\n")


def _backend(value: str | None) -> str:
    """``process`` or ``container``: the argument, else ``$LABKIT_BACKEND``."""
    choice = (value or os.environ.get("LABKIT_BACKEND") or "process").strip().lower()
    if choice not in ("process", "container"):
        raise LabError(f"Unknown lab backend {choice!r}.",
                       "Use 'process' (the server runs as a local process, the default) or 'container' "
                       "(in Docker or Podman), via backend= or LABKIT_BACKEND.")
    return choice


@dataclass(frozen=True)
class LabInfo:
    name: str
    running: bool
    mode: str | None
    lifetime: str | None
    address: str | None
    pid: int | None
    product: str | None
    folder: str


def list_labs(home: str | Path | None = None) -> list[LabInfo]:
    """Every lab folder under ``$LABKIT_HOME`` and whether its server runs."""
    labs = []
    for ws in list_workspaces(home):
        try:
            state = ws.read_json(STATE) or {}
        except WorkspaceError:
            state = {}
        proc = LabProcess.attach(state["process"]) if state.get("process") else None
        labs.append(LabInfo(ws.name, proc is not None, state.get("mode"),
                            (state.get("process") or {}).get("lifetime"), state.get("address"),
                            proc.pid if proc else None,
                            f"{state.get('flavour')} {state.get('version')}" if state else None, str(ws.root)))
    return labs


def stop_lab(name: str, home: str | Path | None = None, purge: bool = False) -> bool:
    """Stop the lab called ``name`` from any process. True if a server was stopped."""
    ws = Workspace(name, home)
    if not ws.exists():
        raise LabError(f"No lab called {name!r} under {ws.home}.", "`labkit ps` lists the labs there.")
    try:
        state = ws.read_json(STATE) or {}
    except WorkspaceError:
        if not purge:
            raise
        state = {}
    proc = LabProcess.attach(state["process"]) if state.get("process") else None
    if proc:
        proc.stop()
    # Rooms that keep services of their own stop them by their records (PostgreSQL's data
    # may live outside the lab folder when the lab runs as root).
    from .seals.kmip import stop_kmip_server
    from .services.postgres import stop_recorded as stop_postgres
    from .storage.raft import stop_recorded as stop_cluster

    stop_cluster(ws)
    stop_kmip_server(ws)
    stop_postgres(ws, purge=purge)
    # Any other side service of a persistent lab (identity provider, receivers...)
    # outlives its kernel; they all run from the lab folder, so that is how they are found.
    stop_processes(processes_under(ws.root))
    ws.delete(STATE)
    if state.get("mode") == "dev":
        ws.delete("credentials.json")
    if purge:
        ws.remove()
    return proc is not None


def current_lab_name(home: str | Path | None = None) -> str | None:
    path = (Path(home) if home else labkit_home()) / "current"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None

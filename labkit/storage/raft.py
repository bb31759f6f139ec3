"""Integrated storage (raft): a cluster of lab servers on loopback (notebook 06).

Each node has its own folder under the cluster's lab folder
(``nodes/nodeN/{config,raft}``), its own API and cluster ports, and a log in
``logs/nodeN.log``. Every node runs through the supervisor with the cluster's
lifetime. Node 1 is initialised; the others join it through the API
(``POST /v1/sys/storage/raft/join``). On OpenBao the nodes share a ``static`` seal key
file, so a restarted node unseals itself; with HashiCorp Vault (no static seal) the
cluster keeps Shamir keys and unseals restarted nodes with them.

``start()`` always begins a fresh cluster: a re-run notebook cell gets a clean one.
"""

from __future__ import annotations

import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import hvac
import requests

from ..credentials import LabCredentials
from ..errors import LabError, ServerStartError
from ..redact import Secret, redact
from ..server.binary import ServerBinary, find_server_binary
from ..server.config import hcl_str, render, render_server_config
from ..services.supervisor import LOOPBACK, LabProcess, Lifetime, free_port, spawn
from ..workspace import Workspace, write_private

STATE_FILE = "cluster.json"


class ClusterError(LabError):
    """The raft cluster did not form, lost its leader for too long, or refused an operation."""


@dataclass
class NodeState:
    """One row of the cluster picture: what a node says about itself right now."""

    name: str
    node_id: str
    address: str
    running: bool
    sealed: bool | None = None
    role: str = "down"  # leader, follower, non-voter, removed, sealed, down
    term: int | None = None
    commit_index: int | None = None
    applied_index: int | None = None
    healthy: bool | None = None
    voter: bool | None = None


@dataclass
class ClusterStatus:
    name: str
    nodes: list[NodeState] = field(default_factory=list)
    leader: str | None = None
    autopilot_healthy: bool | None = None
    failure_tolerance: int | None = None
    voters: list[str] = field(default_factory=list)

    def role(self, name: str) -> str | None:
        """The role of node ``name`` (leader, follower, down...)."""
        return next((n.role for n in self.nodes if name in (n.name, n.node_id)), None)

    def _repr_html_(self) -> str:
        from .picture import cluster_svg

        return cluster_svg(self)

    def __str__(self) -> str:
        from .picture import cluster_text

        return cluster_text(self)

    __repr__ = __str__


class RaftNode:
    """One server of the cluster."""

    def __init__(self, cluster: "RaftCluster", index: int):
        self.cluster = cluster
        self.index = index
        self.name = f"node{index}"
        self.node_id = f"{cluster.name}-node{index}"
        self.folder = cluster.workspace.path("nodes", self.name)
        self.config_dir = self.folder / "config"
        self.data_dir = self.folder / "raft"
        self.log_path = cluster.workspace.logs_dir / f"{self.name}.log"
        self.api_port = free_port()
        self.cluster_port = free_port()
        while self.cluster_port == self.api_port:
            self.cluster_port = free_port()
        self.process: LabProcess | None = None
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"RaftNode({self.name}, {self.address}, {'running' if self.running else 'stopped'})"

    @property
    def address(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive()

    # HTTP ------------------------------------------------------------------
    def request(self, method: str, path: str, token: str | Secret | None = None, **kwargs) -> requests.Response:
        """A raw call to ``/v1/<path>`` on this node."""
        headers = kwargs.pop("headers", {}) or {}
        if token is not None:
            headers["X-Vault-Token"] = token.reveal() if isinstance(token, Secret) else token
        kwargs.setdefault("timeout", 10)
        return self._http.request(method, f"{self.address}/v1/{path.lstrip('/')}", headers=headers, **kwargs)

    def health(self) -> dict:
        """``GET /v1/sys/health`` whatever the status code ({} when it does not answer)."""
        try:
            resp = self.request("GET", "sys/health", timeout=2)
            return resp.json() if resp.content else {}
        except (requests.RequestException, ValueError):
            return {}

    def client(self, token: str | Secret | None = None) -> hvac.Client:
        token = token if token is not None else self.cluster.root_token
        return hvac.Client(url=self.address, token=token.reveal() if isinstance(token, Secret) else token,
                           timeout=15)

    # Life ------------------------------------------------------------------
    def _render(self) -> Path:
        for folder in (self.folder.parent, self.folder, self.config_dir, self.data_dir):
            folder.mkdir(exist_ok=True, mode=0o700)
        text = render_server_config(
            binary=self.cluster.binary, storage="raft", api_port=self.api_port, cluster_port=self.cluster_port,
            data_dir=self.data_dir, node_id=self.node_id, lab_name=f"{self.cluster.name}/{self.name}",
            extra=self.cluster.seal_stanza, storage_block=render(
                "server/storage-raft-node.hcl.tmpl", path=hcl_str(self.data_dir), node_id=hcl_str(self.node_id)),
        )
        return write_private(self.config_dir / "server.hcl", text)

    def start(self) -> "RaftNode":
        """Start the server process and wait until it answers HTTP (sealed or not)."""
        if self.running:
            return self
        self._render()
        self.process = spawn(f"{self.cluster.name}-{self.name}",
                             [str(self.cluster.binary.path), "server", f"-config={self.config_dir}"],
                             self.log_path, self.cluster.lifetime,
                             env={"VAULT_ADDR": "", "BAO_ADDR": "", "VAULT_TOKEN": "", "BAO_TOKEN": ""},
                             cwd=self.folder)
        self.process.wait_until(lambda: bool(self.health()), self.cluster.timeout, f"answering on {self.address}")
        return self

    def stop(self) -> None:
        """SIGTERM (graceful: a leader steps down), then SIGKILL after a timeout."""
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        """SIGKILL, as a crash or power cut would."""
        if self.process is not None:
            self.process.kill()

    def wipe(self) -> None:
        """Delete the node's raft data (it must be stopped)."""
        if self.running:
            raise ClusterError(f"{self.name} is running.", "Stop it first.")
        shutil.rmtree(self.data_dir, ignore_errors=True)


class RaftCluster:
    """A raft cluster of ``size`` lab servers on 127.0.0.1, in lab folder ``name``.

    ``with RaftCluster("raft") as cluster:`` starts it (init, joins, unseal) and always
    stops it. ``seal_key_from`` shares another cluster's static seal key (a snapshot
    restore target must unwrap the source's keyring).
    """

    def __init__(self, name: str = "raft", size: int = 3, *, lifetime: str | Lifetime | None = "auto",
                 binary: str | Path | ServerBinary | None = None, timeout: float = 60.0,
                 seal_key_from: "RaftCluster | None" = None, home: str | Path | None = None):
        if not isinstance(size, int) or not 1 <= size <= 7:
            raise ClusterError(f"A cluster of {size!r} nodes is not something the lab runs.",
                               "Use 1 (single node) up to 7; 3 tolerates one failure, 5 tolerate two.")
        self.name = name
        self.size = size
        self.workspace = Workspace(name, home)
        self.lifetime = Lifetime.resolve(lifetime)
        self.binary = binary if isinstance(binary, ServerBinary) else find_server_binary(binary)
        self.timeout = timeout
        self._seal_source = seal_key_from
        self.nodes: list[RaftNode] = []
        self.credentials: LabCredentials | None = None
        self.seal_stanza = ""
        self.seal_type = "shamir"

    def __repr__(self) -> str:
        up = sum(n.running for n in self.nodes)
        return f"RaftCluster({self.name!r}, {up}/{self.size} nodes running, {self.lifetime.value})"

    def __enter__(self) -> "RaftCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root_token(self) -> Secret | None:
        return self.credentials.root_token if self.credentials else None

    def node(self, which: "str | int | RaftNode") -> RaftNode:
        if isinstance(which, RaftNode):
            return which
        for node in self.nodes:
            if which in (node.name, node.node_id, node.index):
                return node
        raise ClusterError(f"No node {which!r} in cluster {self.name!r}.",
                           f"Use one of {[n.name for n in self.nodes]}.")

    # Start -----------------------------------------------------------------
    def _prepare_seal(self) -> None:
        if self.binary.flavour != "openbao":
            self.seal_type, self.seal_stanza = "shamir", ""
            return
        from ..seals.static import static_stanza

        key_id = "lab-1"
        path = self.workspace.config_dir / f"seal-static-{key_id}.key"
        if self._seal_source is not None:
            source = self._seal_source.workspace.config_dir / f"seal-static-{key_id}.key"
            write_private(path, "")
            path.write_bytes(source.read_bytes())
        elif not path.exists():
            import os

            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
        self.seal_type, self.seal_stanza = "static", static_stanza(key_id, path)

    def _stop_leftovers(self) -> None:
        state = self.workspace.read_json(STATE_FILE) or {}
        for record in state.get("nodes", []):
            proc = LabProcess.attach(record)
            if proc is not None:
                proc.stop()

    def start(self) -> "RaftCluster":
        """Start a fresh cluster: every node up, node 1 initialised, the others joined."""
        from ..redact import install_output_guard

        install_output_guard()
        self.workspace.ensure()
        self._stop_leftovers()
        shutil.rmtree(self.workspace.path("nodes"), ignore_errors=True)
        self.workspace.delete("credentials.json")
        self._prepare_seal()
        self.nodes = [RaftNode(self, i) for i in range(1, self.size + 1)]
        try:
            for node in self.nodes:
                node.start()
            self._save_state()
            self._initialise(self.nodes[0])
            for node in self.nodes[1:]:
                self.join(node)
            self.wait_for(lambda s: s.autopilot_healthy and len(s.voters) == self.size,
                          what=f"{self.size} healthy voters")
        except BaseException:
            self.stop()
            raise
        return self

    def _save_state(self) -> None:
        self.workspace.write_json(STATE_FILE, {
            "name": self.name, "size": self.size, "seal": self.seal_type,
            "nodes": [n.process.record() | {"address": n.address, "cluster_port": n.cluster_port}
                      for n in self.nodes if n.process is not None],
        })

    def _initialise(self, node: RaftNode) -> None:
        """``PUT /v1/sys/init`` on the first node (recovery keys behind the static seal)."""
        body = ({"recovery_shares": 1, "recovery_threshold": 1} if self.seal_type != "shamir"
                else {"secret_shares": 1, "secret_threshold": 1})
        resp = node.request("PUT", "sys/init", json=body, timeout=self.timeout)
        if resp.status_code >= 400:
            raise ServerStartError(f"Initialising {node.name} failed: {redact(resp.text)}\n{node.process.tail()}",
                                   f"Read {node.log_path}.")
        self.credentials = LabCredentials.from_init(resp.json())
        self.credentials.save(self.workspace)
        self._unseal(node)
        self._wait_node(node, lambda h: h.get("initialized") and not h.get("sealed") and not h.get("standby"),
                        "the active node")
        # Autopilot promotes a joined node to voter after it has been stable this long
        # (10 s by default); a lab on one machine needs no such caution.
        resp = node.request("POST", "sys/storage/raft/autopilot/configuration", token=self.root_token,
                            json={"server_stabilization_time": "1s", "cleanup_dead_servers": False})
        if resp.status_code >= 400:
            raise ClusterError(f"Setting autopilot's configuration failed: {redact(resp.text)}",
                               f"Read {node.log_path}.")

    def _unseal(self, node: RaftNode) -> None:
        if self.seal_type != "shamir" or not self.credentials:
            return
        for key in self.credentials.unseal_keys:
            health = node.health()
            if health and not health.get("sealed"):
                return
            node.request("PUT", "sys/unseal", json={"key": key.reveal()})

    def _wait_node(self, node: RaftNode, pred, what: str, timeout: float | None = None) -> None:
        node.process.wait_until(lambda: pred(node.health()), timeout or self.timeout, what, interval=0.05)

    def join(self, node: "str | int | RaftNode", leader: RaftNode | None = None, attempts: int = 3) -> None:
        """``POST /v1/sys/storage/raft/join`` on ``node``, pointing at the leader (or node 1).

        On a loaded machine a join can be acknowledged yet never complete (the node
        stays "not initialised"); then the node is wiped, removed from the
        configuration and joined again, up to ``attempts`` times.
        """
        node = self.node(node)
        for attempt in range(1, attempts + 1):
            target = leader or self.leader() or self.nodes[0]
            self._request_join(node, target)
            self._unseal(node)
            if self._poll(node, lambda h: h.get("initialized") and not h.get("sealed"), min(self.timeout, 25)):
                return
            if attempt == attempts:
                raise ClusterError(f"{node.name} joined {target.name} but never became an unsealed member "
                                   f"({attempts} attempts). Last lines of {node.log_path}:\n{node.process.tail()}",
                                   f"Read {node.log_path} and {target.log_path}; on a slow machine pass a "
                                   "larger timeout.")
            node.stop()
            node.wipe()
            current = self.leader()
            if current is not None:
                current.request("POST", "sys/storage/raft/remove-peer", token=self.root_token,
                                json={"server_id": node.node_id})
            node.start()
            self._save_state()

    def _request_join(self, node: RaftNode, leader: RaftNode) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                resp = node.request("POST", "sys/storage/raft/join", json={"leader_api_addr": leader.address},
                                    timeout=self.timeout)
                if resp.status_code < 400 and resp.json().get("joined"):
                    return
                detail = redact(resp.text)
            except requests.RequestException as exc:
                detail = str(exc)
            if time.monotonic() > deadline:
                raise ClusterError(f"{node.name} could not join {leader.name}: {detail}",
                                   f"Read {node.log_path} and {leader.log_path}.")
            time.sleep(0.3)

    def _poll(self, node: RaftNode, pred, timeout: float) -> bool:
        """True once ``pred(health)`` holds; False after ``timeout`` (the node keeps running)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not node.running:
                raise ServerStartError(f"{node.name} exited. Last lines of {node.log_path}:\n{node.process.tail()}",
                                       "Read the log lines above; the first error line names the cause.")
            if pred(node.health()):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop every node (SIGTERM to all at once, then SIGKILL any that linger)."""
        import signal

        for node in self.nodes:
            if node.running:
                node.process.signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()
        if self.workspace.exists():
            self.workspace.delete(STATE_FILE)

    # Reading the cluster ------------------------------------------------------
    def leader(self) -> RaftNode | None:
        """The node that is active right now (``GET /v1/sys/health`` on each node)."""
        for node in self.nodes:
            if node.running:
                h = node.health()
                if h.get("initialized") and not h.get("sealed") and not h.get("standby"):
                    return node
        return None

    def client(self, token: str | Secret | None = None) -> hvac.Client:
        """An hvac client on the leader (waits for one)."""
        leader = self.wait_leader()[0]
        return leader.client(token)

    def _leader_get(self, path: str) -> dict:
        leader = self.leader()
        if leader is None:
            return {}
        resp = leader.request("GET", path, token=self.root_token)
        return resp.json().get("data") or {} if resp.status_code == 200 else {}

    def members(self) -> list[dict]:
        """``GET /v1/sys/storage/raft/configuration``: node_id, address, leader, voter."""
        return list((self._leader_get("sys/storage/raft/configuration").get("config") or {}).get("servers") or [])

    def autopilot(self) -> dict:
        """``GET /v1/sys/storage/raft/autopilot/state``: health, failure tolerance, per-server state."""
        return self._leader_get("sys/storage/raft/autopilot/state")

    def status(self) -> ClusterStatus:
        """Everything the cluster picture shows, read live from the nodes."""
        pilot = self.autopilot()
        servers = pilot.get("servers") or {}
        members = {m["node_id"]: m for m in self.members()}
        leader = self.leader()
        status = ClusterStatus(self.name, leader=leader.name if leader else None,
                               autopilot_healthy=pilot.get("healthy"),
                               failure_tolerance=pilot.get("failure_tolerance"),
                               voters=list(pilot.get("voters") or []))
        for node in self.nodes:
            row = NodeState(node.name, node.node_id, node.address, node.running)
            if node.running:
                h = node.health()
                row.sealed = h.get("sealed")
                info = {}
                try:
                    resp = node.request("GET", "sys/leader", timeout=2)
                    info = resp.json() if resp.status_code == 200 else {}
                except (requests.RequestException, ValueError):
                    pass
                row.commit_index = info.get("raft_committed_index")
                row.applied_index = info.get("raft_applied_index")
            server = (servers.get(node.node_id) or {}) if node.running else {}
            row.term = server.get("last_term") or None  # 0: autopilot has not heard from it yet
            if row.commit_index is None:
                row.commit_index = server.get("last_index")
            row.healthy = server.get("healthy") if server else (False if members else None)
            member = members.get(node.node_id)
            row.voter = member.get("voter") if member else False
            if not node.running:
                row.role = "down"
            elif row.sealed:
                row.role = "sealed"
            elif leader is node:
                row.role = "leader"
            elif member is None and members:
                row.role = "removed"
            else:
                row.role = "follower" if row.voter else "non-voter"
            status.nodes.append(row)
        return status

    def wait_for(self, pred, what: str, timeout: float | None = None) -> ClusterStatus:
        """Poll :meth:`status` until ``pred(status)``; a clear error naming ``what`` otherwise."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                status = self.status()
                if pred(status):
                    return status
            except (requests.RequestException, ValueError, KeyError):
                status = None
            if time.monotonic() > deadline:
                raise ClusterError(f"Cluster {self.name!r} did not reach {what} within {timeout or self.timeout:g} s. "
                                   f"Now:\n{status}",
                                   f"Read the node logs in {self.workspace.logs_dir}.")
            time.sleep(0.2)

    def wait_caught_up(self, timeout: float | None = None) -> ClusterStatus:
        """Wait until every node runs and all report the same commit index."""
        return self.wait_for(lambda s: all(n.running and n.commit_index for n in s.nodes)
                             and len({n.commit_index for n in s.nodes}) == 1,
                             what="every node at the same commit index", timeout=timeout)

    def wait_leader(self, exclude: RaftNode | None = None, timeout: float | None = None) -> tuple[RaftNode, float]:
        """The active node (other than ``exclude``) and the seconds waited for it."""
        began = time.perf_counter()
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            leader = self.leader()
            if leader is not None and leader is not exclude:
                return leader, time.perf_counter() - began
            if time.monotonic() > deadline:
                raise ClusterError(f"No leader in cluster {self.name!r} after {timeout or self.timeout:g} s.",
                                   "A majority of nodes must run; start the stopped ones.")
            time.sleep(0.05)

    # Operations -----------------------------------------------------------------
    def kill(self, node: "str | int | RaftNode") -> RaftNode:
        """SIGKILL one node."""
        node = self.node(node)
        node.kill()
        return node

    def stop_node(self, node: "str | int | RaftNode") -> RaftNode:
        node = self.node(node)
        node.stop()
        return node

    def start_node(self, node: "str | int | RaftNode", wait_healthy: bool = True) -> float:
        """Start a stopped node again (same ports and data); returns seconds until it is
        unsealed and (with ``wait_healthy``) a healthy member again."""
        node = self.node(node)
        began = time.perf_counter()
        node.start()
        self._save_state()
        self._unseal(node)
        self._wait_node(node, lambda h: h.get("initialized") and not h.get("sealed"), "unsealed")
        if wait_healthy:
            self.wait_for(lambda s: any(r.name == node.name and r.healthy for r in s.nodes),
                          what=f"{node.name} healthy")
        return time.perf_counter() - began

    def remove_peer(self, node: "str | int | RaftNode") -> None:
        """``POST /v1/sys/storage/raft/remove-peer`` for ``node``, then stop it: a removed
        node must not come back with its old data."""
        node = self.node(node)
        leader = self.wait_leader()[0]
        resp = leader.request("POST", "sys/storage/raft/remove-peer", token=self.root_token,
                              json={"server_id": node.node_id})
        if resp.status_code >= 400:
            raise ClusterError(f"Removing {node.name} failed: {redact(resp.text)}", f"Read {leader.log_path}.")
        node.stop()
        self.wait_for(lambda s: node.node_id not in {m["node_id"] for m in self.members()},
                      what=f"{node.name} removed from the configuration")

    def readd_peer(self, node: "str | int | RaftNode") -> float:
        """Bring a removed node back: wipe its data, start it, join it again. Returns seconds."""
        node = self.node(node)
        began = time.perf_counter()
        node.stop()
        node.wipe()
        node.start()
        self._save_state()
        self.join(node)
        self.wait_for(lambda s: any(r.name == node.name and r.healthy and r.voter for r in s.nodes),
                      what=f"{node.name} a healthy voter again")
        return time.perf_counter() - began

    def failover(self) -> dict:
        """Kill the leader, measure until another node accepts a write; restart the old one.

        Returns ``{"old": name, "new": name, "election_s": s, "first_write_s": s}``.
        """
        old = self.wait_leader()[0]
        began = time.perf_counter()
        old.kill()
        new, election = self.wait_leader(exclude=old)
        while True:
            try:
                resp = new.request("PUT", "cubbyhole/failover-probe", token=self.root_token,
                                   json={"at": time.time()}, timeout=2)
                if resp.status_code < 300:
                    break
            except requests.RequestException:
                pass
            new, _ = self.wait_leader(exclude=old)
            if time.perf_counter() - began > self.timeout:
                raise ClusterError("The new leader did not accept a write.", f"Read {new.log_path}.")
            time.sleep(0.02)
        first_write = time.perf_counter() - began
        return {"old": old.name, "new": new.name, "election_s": election, "first_write_s": first_write}

    # Snapshots ----------------------------------------------------------------
    def snapshot_save(self, path: str | Path | None = None) -> Path:
        """``GET /v1/sys/storage/raft/snapshot`` from the leader into ``path`` (0600)."""
        path = Path(path) if path else self.workspace.path("snapshots", f"{self.name}-{int(time.time())}.snap")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        leader = self.wait_leader()[0]
        resp = leader.request("GET", "sys/storage/raft/snapshot", token=self.root_token, stream=True,
                              timeout=self.timeout)
        if resp.status_code != 200:
            raise ClusterError(f"Snapshot failed: {redact(resp.text)}", f"Read {leader.log_path}.")
        import os

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for chunk in resp.iter_content(1 << 16):
                fh.write(chunk)
        if path.stat().st_size == 0:
            raise ClusterError("The snapshot is empty.", f"Read {leader.log_path}.")
        return path

    def snapshot_restore(self, path: str | Path, force: bool = True) -> None:
        """``POST /v1/sys/storage/raft/snapshot-force`` (or ``snapshot``): replace this
        cluster's data with the snapshot. ``force`` is needed for a snapshot of another
        cluster; the root token and keys become the snapshot's."""
        path = Path(path)
        if not path.is_file():
            raise ClusterError(f"No snapshot at {path}.", "Save one first with cluster.snapshot_save().")
        leader = self.wait_leader()[0]
        endpoint = "sys/storage/raft/snapshot-force" if force else "sys/storage/raft/snapshot"
        with open(path, "rb") as fh:
            resp = leader.request("POST", endpoint, token=self.root_token, data=fh, timeout=self.timeout)
        if resp.status_code >= 400:
            raise ClusterError(f"Restore failed: {redact(resp.text)}",
                               "A snapshot of another cluster needs force=True and the same seal key "
                               "(RaftCluster(..., seal_key_from=source)).")

    def adopt_credentials(self, other: "RaftCluster") -> None:
        """After restoring ``other``'s snapshot, its root token is the one that works here."""
        self.credentials = other.credentials
        self.credentials.save(self.workspace)


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def stop_recorded(workspace: Workspace) -> int:
    """Stop the cluster nodes a lab folder's ``cluster.json`` records (for ``labkit stop``,
    which knows only the folder). Returns how many were running."""
    state = workspace.read_json(STATE_FILE) if workspace.exists() else None
    stopped = 0
    for record in (state or {}).get("nodes", []):
        proc = LabProcess.attach(record)
        if proc is not None:
            proc.stop()
            stopped += 1
    if state is not None:
        workspace.delete(STATE_FILE)
    return stopped

"""The raft cluster room against real bao servers: one cluster per module, since
forming one takes seconds."""

from __future__ import annotations

import os
import tempfile

import psutil
import pytest

from labkit.errors import LabError
from labkit.storage import RaftCluster
from labkit.storage.conformance import ClusterTarget, run_conformance
from labkit.storage.picture import ClusterView, cluster_svg, cluster_text

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster():
    # Under the session's LABKIT_HOME, so the suite's orphan check sees these nodes.
    home = tempfile.mkdtemp(prefix="raft-", dir=os.environ["LABKIT_HOME"])
    with RaftCluster("raft", lifetime="ephemeral", home=home) as c:
        yield c


def test_three_voters_one_leader(cluster):
    members = cluster.members()
    assert sorted(m["node_id"] for m in members) == ["raft-node1", "raft-node2", "raft-node3"]
    assert all(m["voter"] for m in members) and sum(m["leader"] for m in members) == 1
    ports = {n.api_port for n in cluster.nodes} | {n.cluster_port for n in cluster.nodes}
    assert len(ports) == 6
    status = cluster.status()
    assert status.autopilot_healthy and len(status.voters) == 3
    assert [r.role for r in status.nodes].count("leader") == 1
    assert all(r.commit_index for r in status.nodes)
    svg = cluster_svg(status)
    assert svg.count("class='node'") == 3 and f"data-leader='{status.leader}'" in svg
    assert status.leader in cluster_text(status)
    for node in cluster.nodes:
        assert (node.folder.stat().st_mode & 0o077) == 0
        assert psutil.Process(node.process.pid).cmdline()[1] == "server"


def test_leader_failover_keeps_data_and_old_leader_catches_up(cluster):
    client = cluster.client()
    client.sys.enable_secrets_engine("kv", path="t-failover", options={"version": "1"})
    client.secrets.kv.v1.create_or_update_secret("before", {"v": "1"}, mount_point="t-failover")
    result = cluster.failover()
    assert result["old"] != result["new"] and result["first_write_s"] < 10
    client = cluster.client()
    assert client.secrets.kv.v1.read_secret("before", mount_point="t-failover")["data"] == {"v": "1"}
    client.secrets.kv.v1.create_or_update_secret("after", {"v": "2"}, mount_point="t-failover")
    cluster.start_node(result["old"])
    status = cluster.wait_caught_up()
    assert status.role(result["old"]) == "follower"


def test_remove_and_readd_a_peer(cluster):
    follower = next(n for n in cluster.nodes if n is not cluster.leader())
    cluster.remove_peer(follower)
    assert follower.node_id not in {m["node_id"] for m in cluster.members()}
    assert not follower.running
    cluster.readd_peer(follower)
    assert follower.node_id in {m["node_id"] for m in cluster.members() if m["voter"]}


def test_snapshot_restores_into_a_fresh_server(cluster, tmp_path):
    client = cluster.client()
    client.sys.enable_secrets_engine("kv", path="t-snap", options={"version": "1"})
    client.secrets.kv.v1.create_or_update_secret("kept", {"v": "snapshot me"}, mount_point="t-snap")
    snap = cluster.snapshot_save(tmp_path / "raft.snap")
    assert snap.stat().st_size > 1000 and (snap.stat().st_mode & 0o077) == 0
    with RaftCluster("restored", size=1, lifetime="ephemeral", seal_key_from=cluster,
                     home=cluster.workspace.home) as fresh:
        assert "t-snap/" not in fresh.client().sys.list_mounted_secrets_engines()["data"]
        fresh.snapshot_restore(snap)
        fresh.adopt_credentials(cluster)
        restored = fresh.client()
        assert restored.secrets.kv.v1.read_secret("kept", mount_point="t-snap")["data"] == {"v": "snapshot me"}


def test_conformance_on_the_cluster_survives_leader_kill(cluster):
    report = run_conformance(ClusterTarget(cluster), durability_writes=15, writers=3, per_writer=5)
    assert report.ok, str(report)
    assert [r.check for r in report.rows][-1] == "durable across kill -9"


def test_view_widget_has_static_fallback(cluster):
    view = ClusterView(cluster)
    bundle = view._repr_mimebundle_()
    assert "<svg" in bundle["text/html"] and "Cluster raft" in bundle["text/plain"]
    view.button.click()
    assert "<svg" in view.view.value


def test_bad_sizes_and_names_are_refused(lab_home):
    with pytest.raises(LabError, match="nodes"):
        RaftCluster("x", size=0)
    with pytest.raises(LabError, match="not a valid lab name"):
        RaftCluster("Bad Name")
    with pytest.raises(LabError, match="No node"):
        RaftCluster("y").node("node9")


def test_stop_recorded_stops_a_cluster_by_its_folder(lab_home):
    from labkit.storage.raft import stop_recorded

    single = RaftCluster("gone", size=1, lifetime="ephemeral").start()
    pid = single.nodes[0].process.pid
    assert stop_recorded(single.workspace) == 1
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

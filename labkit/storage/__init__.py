"""Storage backends (notebook 06): a raft cluster on loopback, snapshots, the
PostgreSQL backend, the storage conformance check and the cluster picture."""

from .raft import ClusterError, ClusterStatus, NodeState, RaftCluster, RaftNode

__all__ = ["ClusterError", "ClusterStatus", "NodeState", "RaftCluster", "RaftNode"]

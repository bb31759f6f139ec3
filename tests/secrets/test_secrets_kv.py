import pytest

from labkit.errors import LabError
from labkit.secrets import KVv2, Table, enable_engine
from labkit.secrets.kv import CASMismatch


@pytest.fixture
def kv(lab, request):
    return KVv2(lab.client, mount="kv-" + request.node.name.replace("_", "-")[:30]).enable(max_versions=5)


def test_versions_and_check_and_set(kv):
    assert kv.put("app/db", {"password": "first"}, cas=0) == 1
    assert kv.put("app/db", {"password": "second"}, cas=1) == 2
    with pytest.raises(CASMismatch) as err:
        kv.put("app/db", {"password": "third"}, cas=1)
    assert err.value.current == 2 and "cas=2" in err.value.fix
    with pytest.raises(CASMismatch):
        kv.put("app/db", {"password": "again"}, cas=0)
    assert kv.get("app/db") == {"password": "second"}
    assert kv.get("app/db", version=1) == {"password": "first"}
    assert kv.metadata("app/db")["current_version"] == 2
    assert kv.config()["max_versions"] == 5


def test_soft_delete_undelete_destroy(kv):
    kv.put("svc", {"k": "v1"})
    kv.put("svc", {"k": "v2"})
    kv.soft_delete("svc")
    assert kv.get("svc") is None
    assert kv.version_state("svc", 2) == "deleted"
    kv.undelete("svc", [2])
    assert kv.get("svc") == {"k": "v2"}
    kv.destroy("svc", [1])
    assert kv.version_state("svc", 1) == "destroyed"
    assert kv.get("svc", version=1) is None
    table = kv.versions("svc")
    assert isinstance(table, Table)
    assert table.column("state") == ["destroyed", "live"]
    assert kv.list() == ["svc"]
    kv.delete_all("svc")
    assert kv.list() == []
    with pytest.raises(LabError, match="No secret"):
        kv.metadata("svc")


def test_bad_input_gets_a_clear_error(kv, lab):
    with pytest.raises(LabError, match="non-empty dict"):
        kv.put("x", {})
    with pytest.raises(LabError, match="no version 9"):
        kv.put("x", {"a": "b"}) and kv.version_state("x", 9)
    with pytest.raises(LabError, match="already holds a 'kv' engine"):
        enable_engine(lab.client, "transit", kv.mount)
    with pytest.raises(LabError, match="reserved"):
        enable_engine(lab.client, "kv", "sys/x")


def test_enable_fresh_starts_empty(kv):
    kv.put("a", {"b": "c"})
    kv.enable()
    assert kv.list() == []

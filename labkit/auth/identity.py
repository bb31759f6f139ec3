"""Identity: entities (one per person or machine), aliases (one per auth method
that knows them) and groups (policies for many entities at once).

An auth method fills the alias on every login (``Alias.Name`` and metadata in a Go
plugin's ``logical.Auth``); Vault then finds or creates the entity, so policies and
audit records follow the person across auth methods.
"""

from __future__ import annotations

from ..errors import LabError
from ..ui.records import Fields, Records
from .methods import _call, mount_accessor


def create_entity(lab, name: str, policies: list[str] | None = None, metadata: dict | None = None) -> str:
    """``POST /v1/identity/entity`` (idempotent by name); returns the entity id."""
    data = _call(lab, "POST", "identity/entity", json={"name": name, "policies": policies or [],
                                                       "metadata": metadata or {}})
    if data and data.get("data"):
        return data["data"]["id"]
    return _call(lab, "GET", f"identity/entity/name/{name}")["data"]["id"]


def add_alias(lab, entity_id: str, alias_name: str, mount: str) -> str:
    """``POST /v1/identity/entity-alias``: the user ``alias_name`` of ``auth/MOUNT/``
    is this entity. Returns the alias id (the existing one if already there)."""
    accessor = mount_accessor(lab, mount)
    entity = _call(lab, "GET", f"identity/entity/id/{entity_id}", what="Reading the entity")["data"]
    for alias in entity.get("aliases") or []:
        if alias["mount_accessor"] == accessor and alias["name"] == alias_name:
            return alias["id"]
    data = _call(lab, "POST", "identity/entity-alias",
                 json={"name": alias_name, "canonical_id": entity_id, "mount_accessor": accessor},
                 what=f"Adding alias {alias_name!r} on auth/{mount}/",
                 fix="An alias can belong to one entity only: this user of that mount is already another entity's.")
    return data["data"]["id"]


def create_group(lab, name: str, policies: list[str], member_entity_ids: list[str]) -> str:
    """``POST /v1/identity/group`` (internal group); returns the group id."""
    data = _call(lab, "POST", "identity/group",
                 json={"name": name, "policies": policies, "member_entity_ids": member_entity_ids})
    if data and data.get("data"):
        return data["data"]["id"]
    return _call(lab, "GET", f"identity/group/name/{name}")["data"]["id"]


def entity(lab, entity_id: str) -> dict:
    """``GET /v1/identity/entity/id/:id``."""
    if not entity_id:
        raise LabError("This token has no entity.",
                       "Tokens from the auth methods get one; the root token and orphan tokens don't.")
    return _call(lab, "GET", f"identity/entity/id/{entity_id}", what="Reading the entity")["data"]


def entity_view(lab, entity_id: str) -> Fields:
    """An entity with its aliases (auth method, name, metadata) and groups."""
    data = entity(lab, entity_id)
    mounts = _call(lab, "GET", "sys/auth")
    mounts = mounts.get("data", mounts)
    by_accessor = {m["accessor"]: p for p, m in mounts.items()}
    aliases = [f"{a['name']} @ auth/{by_accessor.get(a['mount_accessor'], a['mount_accessor'])}"
               + (f" {a['metadata']}" if a.get("metadata") else "") for a in data.get("aliases") or []]
    groups = [_call(lab, "GET", f"identity/group/id/{g}")["data"]["name"] for g in data.get("group_ids") or []]
    return Fields({"entity": data["name"], "id": data["id"], "policies": data.get("policies") or [],
                   "aliases": aliases, "groups": groups}, title="Identity entity")


def aliases(lab, entity_id: str) -> Records:
    data = entity(lab, entity_id)
    return Records([{"name": a["name"], "mount": a.get("mount_path") or a["mount_accessor"],
                     "type": a.get("mount_type"), "metadata": a.get("metadata") or {}}
                    for a in data.get("aliases") or []], title="Aliases")

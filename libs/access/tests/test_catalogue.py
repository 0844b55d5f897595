"""The permission catalogue's shape, and that the files generated from it are current."""

from __future__ import annotations

import itertools
import json

import pytest
from plutarc_access.policy import DATA_JSON, default_policy_dir, generated_files, load_policy_dir
from plutarc_contracts import (
    ESCALATION_GUARDED,
    OWNER_ONLY,
    PERMISSIONS,
    ROLES,
    catalogue_data,
    grants,
    is_role,
    role_rank,
)
from plutarc_contracts.permissions import PERMISSION_RE


def test_exactly_34_permissions_named_resource_action() -> None:
    assert len(PERMISSIONS) == 34
    for name, description in PERMISSIONS.items():
        assert PERMISSION_RE.fullmatch(name), name
        assert description.strip() and "\n" not in description, name


def test_roles_ranked_highest_first() -> None:
    assert ROLES == ("owner", "admin", "manager", "trader", "viewer")
    assert [role_rank(r) for r in ROLES] == [5, 4, 3, 2, 1]
    assert is_role("trader") and not is_role("root")
    with pytest.raises(KeyError):
        role_rank("root")


def test_grants_are_cumulative_and_complete() -> None:
    for higher, lower in itertools.pairwise(ROLES):
        assert grants(lower) < grants(higher), (higher, lower)
    assert grants("owner") == frozenset(PERMISSIONS)
    assert grants("nobody") == frozenset()
    every_grant = set().union(*(grants(r) for r in ROLES))
    assert every_grant <= set(PERMISSIONS)


def test_grants_match_the_specification() -> None:
    assert len(grants("viewer")) == 9
    assert grants("trader") - grants("viewer") == {
        "bots:create",
        "bots:update",
        "bots:start_stop",
        "trading:paper",
        "strategies:create",
        "strategies:update",
        "api_tokens:manage",
    }
    assert "trading:live" in grants("manager") and "trading:live" not in grants("trader")
    assert grants("owner") - grants("admin") == OWNER_ONLY
    assert grants("admin") >= ESCALATION_GUARDED
    assert "roles:assign" not in grants("manager")
    assert "invitations:create" in grants("manager")


def test_catalogue_data_is_json_and_matches_grants() -> None:
    data = json.loads(json.dumps(catalogue_data()))
    assert list(data["roles"]) == list(ROLES)
    for role, entry in data["roles"].items():
        assert entry["rank"] == role_rank(role)
        assert set(entry["grants"]) == grants(role)
    assert data["permissions"] == PERMISSIONS


def test_generated_files_are_current() -> None:
    """Fails when the catalogue changed without `uv run python scripts/gen_policy_data.py`."""
    stale = [
        str(path)
        for path, content in generated_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    assert not stale, f"stale generated files, run scripts/gen_policy_data.py: {stale}"


def test_policy_dir_loads_data_at_its_directory_path() -> None:
    files = load_policy_dir()
    assert files.data == {"plutarc": {"catalogue": catalogue_data()}}
    assert "plutarc/authz.rego" in files.modules
    assert (default_policy_dir() / DATA_JSON).exists()

"""The in-process engine against the Python oracle, over the whole decision matrix."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from plutarc_access import (
    AccessError,
    AccessRequest,
    Decision,
    OpaServerEngine,
    RegoEngine,
    cache_key,
    engine_for,
)
from plutarc_access.matrix import (
    ACTOR,
    OTHER,
    all_cases,
    escalation_cases,
    expected_allowed,
    role_permission_matrix,
    unknown_cases,
)
from plutarc_contracts import PERMISSIONS, ROLES, grants


def req(role: str, permission: str, **resource: object) -> AccessRequest:
    return AccessRequest(actor_id=ACTOR, role=role, permission=permission, resource=resource)


def test_matrix_sizes() -> None:
    assert len(list(role_permission_matrix())) == len(ROLES) * len(PERMISSIONS) == 170
    assert len(list(escalation_cases())) == 2 * 5 * (5 * 2 + 3)
    assert len(all_cases()) == 170 + 130 + 3 * 34 + 4 * 5


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
def test_every_decision_matches_the_catalogue(cached: bool) -> None:
    engine = RegoEngine(cache=cached)
    wrong = []
    for request in all_cases():
        decision = engine.decide(request)
        if decision.allowed != expected_allowed(request):
            wrong.append((request, decision))
        # a denial always says why; an allowance never carries reasons
        assert bool(decision.reasons) != decision.allowed, (request, decision)
    assert not wrong


def test_plain_grants_without_resource(rego: RegoEngine) -> None:
    for role in ROLES:
        for permission in PERMISSIONS:
            if permission in {"roles:assign", "invitations:create"}:
                continue
            assert rego.decide(req(role, permission)).allowed == (permission in grants(role))


def test_live_trading_is_its_own_permission(rego: RegoEngine) -> None:
    assert rego.decide(req("trader", "trading:paper")).allowed
    assert not rego.decide(req("trader", "trading:live")).allowed
    assert rego.decide(req("manager", "trading:live")).allowed


def test_escalation_rules(rego: RegoEngine) -> None:
    assign = "roles:assign"
    assert rego.decide(req("admin", assign, target_role="admin", target_user_id=OTHER)).allowed
    assert rego.decide(req("owner", assign, target_role="owner", target_user_id=OTHER)).allowed
    higher = rego.decide(req("admin", assign, target_role="owner", target_user_id=OTHER))
    assert higher == Decision(
        False,
        (
            "only an owner can make someone an owner",
            "role 'admin' cannot hand out the higher role 'owner'",
        ),
    )
    own = rego.decide(req("owner", assign, target_role="viewer", target_user_id=ACTOR))
    assert own == Decision(False, ("nobody can change their own role",))
    missing = rego.decide(req("owner", assign, target_user_id=OTHER))
    assert missing.reasons == ("'roles:assign' needs resource.target_role",)
    invite = "invitations:create"
    assert rego.decide(req("manager", invite, target_role="manager")).allowed
    assert not rego.decide(req("manager", invite, target_role="admin")).allowed
    # inviting yourself is not changing your own role
    assert rego.decide(req("manager", invite, target_role="trader", target_user_id=ACTOR)).allowed


def test_owner_only_actions(rego: RegoEngine) -> None:
    for permission in ("workspace:archive", "workspace:transfer_ownership"):
        assert rego.decide(req("owner", permission)).allowed
        denied = rego.decide(req("admin", permission))
        assert f"only the owner can '{permission}'" in denied.reasons


def test_unknown_role_or_permission_is_denied(rego: RegoEngine) -> None:
    for request in unknown_cases():
        assert not rego.decide(request).allowed, request
    assert rego.decide(req("root", "bots:read")).reasons == ("unknown role 'root'",)
    assert rego.decide(req("owner", "bots:fly")).reasons == ("unknown permission 'bots:fly'",)
    missing = rego.evaluate({"permission": "bots:read"})
    assert not missing.allowed and "input.actor.role is missing" in missing.reasons


def test_cache_keys_only_known_vocabulary() -> None:
    assert cache_key(req("admin", "bots:read")) == ("admin", "bots:read", None, False)
    key = cache_key(req("admin", "roles:assign", target_role="viewer", target_user_id=ACTOR))
    assert key == ("admin", "roles:assign", "viewer", True)
    assert cache_key(req("root", "bots:read")) is None
    assert cache_key(req("admin", "bots:fly")) is None
    assert cache_key(req("admin", "roles:assign", target_role="superuser")) is None
    assert cache_key(req("admin", "roles:assign", target_role=None)) is None
    assert cache_key(req("admin", "roles:assign", target_role=["owner"])) is None
    assert cache_key(req("admin", "roles:assign", target_user_id=7)) is None


def test_cache_evaluates_each_key_once() -> None:
    engine = RegoEngine()
    for _ in range(3):
        for request in all_cases():
            engine.decide(request)
    cacheable = {k for k in map(cache_key, all_cases()) if k is not None}
    uncacheable = sum(1 for r in all_cases() if cache_key(r) is None)
    assert engine.cache_size == len(cacheable)
    assert engine.evaluations == len(cacheable) + 3 * uncacheable
    engine.clear_cache()
    assert engine.cache_size == 0


def test_cache_does_not_leak_between_actors(rego: RegoEngine) -> None:
    """Same role, permission and target, different self-ness: different answers."""
    to_other = req("admin", "roles:assign", target_role="trader", target_user_id=OTHER)
    to_self = req("admin", "roles:assign", target_role="trader", target_user_id=ACTOR)
    for _ in range(2):
        assert rego.decide(to_other).allowed
        assert not rego.decide(to_self).allowed


def test_concurrent_decisions_are_consistent() -> None:
    engine = RegoEngine(cache=False)
    cases = all_cases()
    errors: list[object] = []

    def worker(offset: int) -> None:
        for request in cases[offset:] + cases[:offset]:
            if engine.decide(request).allowed != expected_allowed(request):
                errors.append(request)

    threads = [threading.Thread(target=worker, args=(i * 37,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive()
    assert not errors
    assert engine.evaluations == 8 * len(cases)


def test_broken_policy_is_an_error_not_a_denial(tmp_path: Path) -> None:
    (tmp_path / "broken.rego").write_text("package plutarc.authz\n\nallow if {\n")
    with pytest.raises(AccessError):
        RegoEngine(tmp_path)


def test_engine_for_picks_opa_when_a_url_is_configured() -> None:
    assert isinstance(engine_for(None), RegoEngine)
    assert isinstance(engine_for(""), RegoEngine)
    remote = engine_for("http://127.0.0.1:8181")
    assert isinstance(remote, OpaServerEngine) and remote.url == "http://127.0.0.1:8181"
    remote.close()
    with pytest.raises(ValueError, match="OPA url"):
        engine_for("127.0.0.1:8181")

"""Rejection kinds map to HTTP statuses, for every service alike: no guessing from codes."""

from __future__ import annotations

import pytest
from plutarc_api.problems import STATUS_BY_KIND, status_for
from plutarc_contracts import default_registry
from plutarc_contracts.rejections import KINDS


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("not_found", 404),
        ("forbidden", 403),
        ("conflict", 409),
        ("invalid", 422),
        ("unavailable", 503),
        ("failed", 500),
    ],
)
def test_status_for_kind(kind: str, status: int) -> None:
    assert status_for(kind) == status


def test_every_kind_has_a_status() -> None:
    assert set(STATUS_BY_KIND) == KINDS


def test_a_v1_reply_on_the_topic_gets_its_kind_from_the_upcaster() -> None:
    """Replies written before kinds existed still decode, with the kind their code meant."""
    registry = default_registry()
    for code, kind in [
        ("identity.workspace_not_found", "not_found"),
        ("identity.role_escalation", "forbidden"),
        ("identity.user_exists", "conflict"),
        ("identity.invalid_email", "invalid"),
        ("command.failed", "failed"),
    ]:
        raw = (
            b'{"command_id":"c","command_type":"identity.invite_member","code":"%s","detail":"d"}'
            % code.encode()
        )
        reply = registry.decode_payload("system.command_rejected", 1, raw)
        assert reply.kind == kind, code  # type: ignore[attr-defined]

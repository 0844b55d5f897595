"""The gateway's identity projection forgets sessions once identity says they ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plutarc_api.views import IdentityView, SessionView
from plutarc_contracts import Envelope, default_registry
from plutarc_contracts import identity as c

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def session_event(session_id: str, payload: c.Payload) -> Envelope:
    return Envelope(
        event_id=f"e-{session_id}-{type(payload).__name__}",
        type=default_registry().type_name_of(type(payload))[0],
        schema_version=1,
        occurred_at=NOW,
        producer="identity",
        stream_id=session_id,
        stream_position=1 if isinstance(payload, c.SessionStarted) else 2,
        workspace_id=None,
        actor="user:u",
        correlation_id="corr",
        causation_id=None,
        payload=payload,
    )


def started(session_id: str, expires_at: datetime) -> Envelope:
    digest = session_id.ljust(64, "0")
    return session_event(
        session_id,
        c.SessionStarted(
            session_id=session_id, user_id="u", token_hash=digest, expires_at=expires_at
        ),
    )


def test_sessions_are_forgotten_when_they_end_by_logout_or_expiry() -> None:
    view = IdentityView()
    view.apply(started("a1", NOW + timedelta(hours=1)))
    view.apply(started("b2", NOW + timedelta(hours=1)))
    view.apply(started("c3", NOW - timedelta(seconds=1)))
    view.apply(session_event("b2", c.SessionEnded(session_id="b2", user_id="u", reason="logout")))
    view.apply(session_event("c3", c.SessionEnded(session_id="c3", user_id="u", reason="expired")))

    assert list(view.sessions.values()) == [SessionView("a1", "u", NOW + timedelta(hours=1))]
    assert list(view.session_hash) == ["a1"]
    # An end that arrives again (a republished event) changes nothing.
    view.apply(session_event("c3", c.SessionEnded(session_id="c3", user_id="u", reason="expired")))
    assert list(view.session_hash) == ["a1"]

"""Invitations and sessions past their expiry become events, by identity's timers, on simulated time."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from plutarc_contracts import identity as c

from .conftest import Identity, token_hash


def _invited_for_a_day(identity: Identity) -> tuple[str, str, str]:
    """Olivia's organisation invites tom@example.com for a day (token "a"): (owner, ws, id)."""
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    invitation_id = str(uuid4())
    identity.ok(
        owner,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=invitation_id,
            email="tom@example.com",
            role="trader",
            token_hash=token_hash("a"),
            expires_in_days=1,
        ),
    )
    return owner, ws, invitation_id


def test_invitations_expire_by_timer_and_a_resend_revives_them(identity: Identity) -> None:
    owner, ws, invitation_id = _invited_for_a_day(identity)
    assert identity.advance(timedelta(hours=23)) == 0
    assert identity.events("identity.invitation_expired") == []
    assert identity.advance(timedelta(hours=2)) == 1
    (expired,) = identity.events("identity.invitation_expired")
    assert expired.actor == "system:identity"
    assert expired.payload.invitation_id == invitation_id
    assert identity.advance(timedelta(hours=1)) == 0, "expired once, never again"

    tom, _ = identity.register("tom")
    accept = c.AcceptInvitation(
        workspace_id=ws, invitation_id=invitation_id, token_hash=token_hash("a")
    )
    identity.rejected(tom, accept, "identity.invitation_expired")
    identity.ok(
        owner,
        c.ResendInvitation(
            workspace_id=ws, invitation_id=invitation_id, token_hash=token_hash("b")
        ),
    )
    identity.ok(
        tom,
        c.AcceptInvitation(
            workspace_id=ws, invitation_id=invitation_id, token_hash=token_hash("b")
        ),
    )
    assert identity.advance(timedelta(days=10)) == 0, "an accepted invitation never expires"


def test_sessions_past_their_lifetime_end_with_reason_expired(identity: Identity) -> None:
    actor, user_id = identity.register("olivia")
    short, long, ended = str(uuid4()), str(uuid4()), str(uuid4())
    for session_id, ttl in ((short, 600), (long, 7200), (ended, 600)):
        identity.ok(
            actor,
            c.StartSession(
                session_id=session_id,
                user_id=user_id,
                token_hash=token_hash(session_id),
                ttl_seconds=ttl,
            ),
        )
    identity.ok(actor, c.EndSession(session_id=ended))
    identity.advance(timedelta(minutes=11))
    reasons = {
        e.payload.session_id: e.payload.reason for e in identity.events("identity.session_ended")
    }
    assert reasons == {ended: "logout", short: "expired"}
    identity.advance(timedelta(hours=2))
    reasons = {
        e.payload.session_id: e.payload.reason for e in identity.events("identity.session_ended")
    }
    assert reasons == {ended: "logout", short: "expired", long: "expired"}
    assert len(identity.events("identity.session_ended")) == 3


def test_users_cannot_issue_the_timers_commands(identity: Identity) -> None:
    actor, _ = identity.register("olivia")
    identity.rejected(actor, c.ExpireSessions(session_ids=[str(uuid4())]), "access.system_only")


def test_an_invitation_resent_after_it_expired_expires_again(identity: Identity) -> None:
    owner, ws, invitation_id = _invited_for_a_day(identity)
    assert identity.advance(timedelta(days=2)) == 1
    identity.ok(
        owner,
        c.ResendInvitation(
            workspace_id=ws,
            invitation_id=invitation_id,
            token_hash=token_hash("b"),
            expires_in_days=1,
        ),
    )
    assert identity.advance(timedelta(days=2)) == 1, "the second expiry is a command of its own"
    first, second = identity.events("identity.invitation_expired")
    assert first.payload.invitation_id == second.payload.invitation_id == invitation_id
    assert second.occurred_at > first.occurred_at

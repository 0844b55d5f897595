"""Identity's timers: invitations and sessions past their expiry become events.

`Expiries` is a read model of identity's own events: every pending invitation and live session
with its expiry, in a heap, so a pass finds what fell due without looking at the rest. A timer
issues `ExpireInvitations` / `ExpireSessions` to the service itself in batches; the aggregates
decide again (an invitation accepted meanwhile is left alone), so a repeated pass changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from plutarc_contracts import identity as c
from plutarc_runtime.timers import Deadlines, ReadModels, Timer, by_batches

BATCH = 500


class Expiries:
    event_types = frozenset(
        {
            "identity.invitation_created",
            "identity.invitation_resent",
            "identity.invitation_accepted",
            "identity.invitation_declined",
            "identity.invitation_revoked",
            "identity.invitation_expired",
            "identity.session_started",
            "identity.session_ended",
        }
    )

    def __init__(self) -> None:
        self.invitations = Deadlines()
        self.sessions = Deadlines()

    def apply(self, env: Any) -> None:
        p = env.payload
        match p:
            case c.InvitationCreated() | c.InvitationResent():
                self.invitations.set((p.workspace_id, p.invitation_id), p.expires_at)
            case (
                c.InvitationAccepted()
                | c.InvitationDeclined()
                | c.InvitationRevoked()
                | c.InvitationExpired()
            ):
                self.invitations.drop((p.workspace_id, p.invitation_id))
            case c.SessionStarted():
                self.sessions.set(p.session_id, p.expires_at)
            case c.SessionEnded():
                self.sessions.drop(p.session_id)


def expire_invitations(now: datetime, models: ReadModels) -> list[c.ExpireInvitations]:
    due = models.get(Expiries).invitations.due(now)
    return [
        c.ExpireInvitations(
            invitations=[c.ExpiringInvitation(workspace_id=w, invitation_id=i) for w, i in batch]
        )
        for batch in by_batches(sorted(due), BATCH)
    ]


def expire_sessions(now: datetime, models: ReadModels) -> list[c.ExpireSessions]:
    due = models.get(Expiries).sessions.due(now)
    return [c.ExpireSessions(session_ids=list(batch)) for batch in by_batches(sorted(due), BATCH)]


def timers(every: timedelta = timedelta(seconds=30)) -> list[Timer]:
    return [
        Timer("expire-invitations", every, expire_invitations),
        Timer("expire-sessions", every, expire_sessions),
    ]

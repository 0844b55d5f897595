"""A realistic identity history, published to a broker's identity topics as identity's relay does.

Per user: the email claim, the registration (with the personal workspace and its owner), a password
and three logins, two of them ended by a logout. Every tenth user creates an organisation, invites
three earlier users (who accept), changes one member's role, issues an API token (every other one
is revoked later) and sets the risk limits. Every command ends in its `system.command_accepted`
reply on the events topic, as identity's handler records it.

Each record is what the relay sends: value `registry.encode_event(envelope)`, key the stream id,
headers `type` and `position` (the store's notification id), on the topic the contracts route the
type to (credential events to `identity.credentials.v1`, the rest to `identity.events.v1`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any
from uuid import UUID, uuid4, uuid5

from plutarc_contracts import CommandAccepted, Envelope, default_registry, new_event_id
from plutarc_contracts import identity as c
from plutarc_runtime.bus import ensure_topics, make_producer

LOGINS = 3
ORG_EVERY = 10
INVITEES = 3
OUTCOMES = UUID("6f1c1c52-0000-4000-8000-000000000001")  # stream ids of command outcomes


def _hash(text: str) -> str:
    return sha256(text.encode()).hexdigest()


class History:
    """An endless, deterministic-in-shape identity history; positions continue across batches."""

    def __init__(self) -> None:
        self.registry = default_registry()
        self.topics = c.identity_topics()
        self.position = 0  # the store's notification id: one per event, across both topics
        self.users: list[tuple[str, str]] = []  # (user id, email) of recent users, for invitations
        self.registered = 0
        self.sent_by_topic: Counter[str] = Counter()
        self.revocable: list[tuple[str, str, str]] = []  # (token, user, workspace)
        self.now = datetime.now(UTC) - timedelta(days=30)
        self._streams: dict[str, int] = {}
        self._types: dict[type, tuple[str, int]] = {}
        self._events = itertools.chain.from_iterable(self._user() for _ in itertools.count())

    # -- envelopes ------------------------------------------------------------------------------
    def _event(
        self, stream: str, payload: Any, actor: str, workspace: str | None, correlation: str
    ) -> Envelope:
        kind = self._types.get(type(payload))
        if kind is None:
            kind = self._types[type(payload)] = self.registry.type_name_of(type(payload))
        position = self._streams.get(stream, 0) + 1
        self._streams[stream] = position
        self.now += timedelta(milliseconds=3)
        return Envelope(
            event_id=new_event_id(),
            type=kind[0],
            schema_version=kind[1],
            occurred_at=self.now,
            producer="identity",
            stream_id=stream,
            stream_position=position,
            workspace_id=workspace,
            actor=actor,
            correlation_id=correlation,
            causation_id=None,
            payload=payload,
        )

    def _command(
        self,
        command_type: str,
        actor: str,
        workspace: str | None,
        changes: list[tuple[str, Any]],
        result: dict[str, Any] | None = None,
    ) -> list[Envelope]:
        """A command's events and then its reply, as one handled command stores them."""
        command_id, correlation = new_event_id(), str(uuid4())
        events = [self._event(s, p, actor, workspace, correlation) for s, p in changes]
        last = events[-1] if events else None
        reply = CommandAccepted(
            command_id=command_id,
            command_type=command_type,
            result=result or {},
            stream_id=last.stream_id if last else None,
            stream_position=last.stream_position if last else None,
        )
        outcome = str(uuid5(OUTCOMES, command_id))
        events.append(self._event(outcome, reply, actor, workspace, correlation))
        return events

    # -- what users do ----------------------------------------------------------------------------
    def _user(self) -> Iterator[Envelope]:
        user, ws, claim = str(uuid4()), str(uuid4()), str(uuid4())
        email = f"{user[:13]}@example.com"
        actor = f"user:{user}"
        yield from self._command(
            "identity.register_user",
            "anonymous",
            None,
            [
                (claim, c.EmailClaimed(email=email, user_id=user)),
                (user, c.UserRegistered(user_id=user, email=email, display_name="Trader",
                                        personal_workspace_id=ws)),
                (user, c.PasswordSet(user_id=user, password_hash="$argon2id$v=19$m=19456,t=2,p=1$"
                                     + _hash(user)[:22] + "$" + _hash(email)[:43])),
                (ws, c.WorkspaceCreated(workspace_id=ws, kind="personal", name="Personal",
                                        created_by=user)),
                (ws, c.MemberJoined(workspace_id=ws, user_id=user, role="owner", via="creation")),
            ],
            {"user_id": user, "personal_workspace_id": ws},
        )  # fmt: skip
        for login in range(LOGINS):
            session = str(uuid4())
            yield from self._command(
                "identity.start_session",
                "anonymous",
                None,
                [(session, c.SessionStarted(session_id=session, user_id=user,
                                            token_hash=_hash(session),
                                            expires_at=self.now + timedelta(hours=12)))],
            )  # fmt: skip
            if login < LOGINS - 1:
                yield from self._command(
                    "identity.end_session",
                    actor,
                    None,
                    [(session, c.SessionEnded(session_id=session, user_id=user, reason="logout"))],
                )
        self.users.append((user, email))
        self.registered += 1
        if self.registered % ORG_EVERY == 0:
            yield from self._organisation(user)
        del self.users[:-100]

    def _organisation(self, owner: str) -> Iterator[Envelope]:
        ws, actor = str(uuid4()), f"user:{owner}"
        yield from self._command(
            "identity.create_organisation",
            actor,
            ws,
            [
                (ws, c.WorkspaceCreated(workspace_id=ws, kind="organisation", name="Desk",
                                        created_by=owner)),
                (ws, c.MemberJoined(workspace_id=ws, user_id=owner, role="owner", via="creation")),
            ],
            {"workspace_id": ws},
        )  # fmt: skip
        invitees = self.users[-1 - INVITEES : -1]
        expires = self.now + timedelta(days=7)
        for user, email in invitees:
            inv = str(uuid4())
            yield from self._command(
                "identity.invite_member",
                actor,
                ws,
                [
                    (ws, c.InvitationCreated(workspace_id=ws, invitation_id=inv, email=email,
                                             role="viewer", expires_at=expires)),
                    (ws, c.InvitationTokenSet(workspace_id=ws, invitation_id=inv,
                                              token_hash=_hash(inv), expires_at=expires)),
                ],
            )  # fmt: skip
            yield from self._command(
                "identity.accept_invitation",
                f"user:{user}",
                ws,
                [
                    (ws, c.InvitationAccepted(workspace_id=ws, invitation_id=inv, user_id=user)),
                    (ws, c.MemberJoined(workspace_id=ws, user_id=user, role="viewer",
                                        via="invitation", invitation_id=inv)),
                ],
            )  # fmt: skip
        if invitees:
            yield from self._command(
                "identity.change_member_role",
                actor,
                ws,
                [(ws, c.MemberRoleChanged(workspace_id=ws, user_id=invitees[0][0],
                                          previous_role="viewer", role="trader"))],
            )  # fmt: skip
        risk = c.RiskDefaults(max_order_notional="50000", daily_loss_limit="2500")
        yield from self._command(
            "identity.change_workspace_settings",
            actor,
            ws,
            [(ws, c.WorkspaceSettingsChanged(workspace_id=ws, previous_risk=c.RiskDefaults(),
                                             risk=risk))],
        )  # fmt: skip
        token = str(uuid4())
        until = self.now + timedelta(days=90)
        yield from self._command(
            "identity.issue_api_token",
            actor,
            ws,
            [
                (token, c.ApiTokenIssued(token_id=token, user_id=owner, workspace_id=ws,
                                         name="bot", permissions=["workspace.read", "orders.place"],
                                         expires_at=until)),
                (token, c.ApiTokenCredentialSet(token_id=token, user_id=owner, workspace_id=ws,
                                                token_hash=_hash(token), expires_at=until)),
            ],
            {"token_id": token},
        )  # fmt: skip
        if self.revocable:
            old, user, old_ws = self.revocable.pop()
            yield from self._command(
                "identity.revoke_api_token",
                f"user:{user}",
                old_ws,
                [(old, c.ApiTokenRevoked(token_id=old, user_id=user, workspace_id=old_ws))],
            )
        else:
            self.revocable.append((token, owner, ws))

    def records(self, count: int) -> Iterator[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]:
        """The next `count` records: (topic, value, key, headers)."""
        for env in itertools.islice(self._events, count):
            self.position += 1
            headers = [("type", env.type.encode()), ("position", str(self.position).encode())]
            topic = self.topics.route(env.type)
            self.sent_by_topic[topic] += 1
            yield topic, self.registry.encode_event(env), env.stream_id.encode(), headers


async def publish(bootstrap: str, history: History, count: int) -> int:
    """Send the next `count` events of `history` to the broker's identity topics (created first)."""
    await ensure_topics(bootstrap, history.topics.all())
    producer = make_producer(bootstrap, client_id="bench-identity-history", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        for topic, value, key, headers in history.records(count):
            await producer.send(topic, value, key=key, headers=headers)
            sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent

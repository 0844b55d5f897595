"""Invitation emails: recorded as intents with the invitation, sent through a real SMTP server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_contracts import identity as c
from plutarc_identity.adapters.email import EmailAdapter, NoMail, SmtpMailer
from plutarc_testkit.smtp import SmtpServer
from plutarc_testkit.waiting import until

from .conftest import Identity, make_identity, token_hash

URL = "https://plutarc.example/invitations/accept#token="


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def with_mail(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy, port: int
) -> Identity:
    mailer = SmtpMailer("127.0.0.1", port, timeout=2)
    return make_identity(
        backend,
        tmp_path,
        request,
        policy,
        {"email": EmailAdapter(mailer, "plutarc <no-reply@plutarc.test>")},
    )


def invite(identity: Identity, owner: str, ws: str, email: str, secret: str) -> str:
    invitation_id = str(uuid4())
    identity.ok(
        owner,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=invitation_id,
            email=email,
            role="trader",
            token_hash=token_hash(secret),
            accept_url=URL + secret,
        ),
    )
    return invitation_id


def link(message) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r"https://\S+", message.get_payload(decode=True).decode())
    assert found is not None
    return found.group(0)


async def test_one_mail_per_invitation_and_per_resend(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy, smtp: SmtpServer
) -> None:
    identity = with_mail(backend, tmp_path, request, policy, smtp.port)
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    invitation_id = invite(identity, owner, ws, "tom@example.com", "first")
    await identity.drain_intents()
    await identity.drain_intents()  # a second worker finds nothing left to send
    mails = smtp.inbox.to("tom@example.com")
    assert len(mails) == 1
    assert link(mails[0]) == URL + "first"
    assert "Desk" in mails[0]["Subject"]

    identity.ok(
        owner,
        c.ResendInvitation(
            workspace_id=ws,
            invitation_id=invitation_id,
            token_hash=token_hash("second"),
            accept_url=URL + "second",
        ),
    )
    await identity.drain_intents()
    mails = smtp.inbox.to("tom@example.com")
    assert [link(m) for m in mails] == [URL + "first", URL + "second"]
    assert mails[0]["Message-ID"] != mails[1]["Message-ID"]

    # The old link is dead; the new one opens the invitation.
    tom, _ = identity.register("tom")
    identity.rejected(
        tom,
        c.AcceptInvitation(
            workspace_id=ws, invitation_id=invitation_id, token_hash=token_hash("first")
        ),
        "identity.invitation_mismatch",
    )
    identity.ok(
        tom,
        c.AcceptInvitation(
            workspace_id=ws, invitation_id=invitation_id, token_hash=token_hash("second")
        ),
    )
    # The link never reaches an event a user-side consumer reads: only the private intent record.
    for env in identity.events("identity."):
        assert "first" not in repr(env.payload) and "second" not in repr(env.payload)


async def test_with_the_smtp_server_down_the_mail_arrives_once_it_is_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy
) -> None:
    server = SmtpServer()  # not started: connections are refused
    identity = with_mail(backend, tmp_path, request, policy, server.port)
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    invite(identity, owner, ws, "tom@example.com", "s1")

    worker = identity.worker(backoff_initial=0.05, backoff_max=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await until(
            lambda: len(identity.intents("system.intent_attempt_failed")) >= 2,
            what="two failed attempts while the server is down",
        )
        server.start()
        await until(lambda: identity.pending_intents() == 0, what="the mail sent")
    finally:
        stop.set()
        await task
        server.stop()
    assert len(server.inbox.to("tom@example.com")) == 1
    assert identity.intents("system.intent_completed")[0].attempts >= 3


async def test_without_smtp_nothing_is_sent_and_the_record_says_why(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, policy
) -> None:
    identity = make_identity(backend, tmp_path, request, policy, {"email": NoMail()})
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    invite(identity, owner, ws, "tom@example.com", "s1")
    await identity.drain_intents()
    (done,) = identity.intents("system.intent_completed")
    assert done.result["sent"] is False and "SMTP" in done.result["reason"]


def test_an_invitation_without_a_link_records_no_mail(identity: Identity) -> None:
    owner, _ = identity.register("olivia")
    ws = identity.organisation(owner, "Desk")
    identity.ok(
        owner,
        c.InviteMember(
            workspace_id=ws,
            invitation_id=str(uuid4()),
            email="tom@example.com",
            role="viewer",
            token_hash=token_hash("x"),
        ),
    )
    assert identity.intents() == []

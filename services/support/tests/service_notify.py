"""The support service built with its real notification adapters pointed at the fake Bot API and
a real SMTP server (the harness, on SQLite), for the Telegram and email tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

from plutarc_access import Memberships, RegoEngine
from plutarc_contracts import support as s
from plutarc_contracts.identity import UserRegistered
from plutarc_runtime.mail import SmtpMailer
from plutarc_support.adapters.mail import NoSupportMail, SupportEmailAdapter
from plutarc_support.adapters.telegram import NoTelegram, TelegramNotifier, make_bot
from plutarc_support.bootstrap import build
from plutarc_support.notifications import Recipients
from plutarc_support.settings import SupportSettings
from plutarc_testkit.identity_events import identity_event, workspace_events
from plutarc_testkit.smtp import SmtpServer
from plutarc_testkit.telegram import FakeTelegram

from .conftest import Support
from .notify_helpers import CHAT, LINKS

EMAILS = {"alice": "alice@example.com", "bob": "bob@example.com", "carol": "carol@example.com"}


def notified_support(
    tmp_path: Path,
    policy: RegoEngine,
    fake: FakeTelegram | None,
    smtp: SmtpServer | None = None,
    **settings: Any,
) -> Support:
    memberships, recipients = Memberships(policy), Recipients()
    ws, other = str(uuid4()), str(uuid4())
    for env in workspace_events(ws, {"alice": "owner", "bob": "viewer"}):
        memberships.apply(env)
    for env in workspace_events(other, {"carol": "owner"}):
        memberships.apply(env)
    for user, email in EMAILS.items():
        registered = UserRegistered(
            user_id=user, email=email, display_name=user.title(), personal_workspace_id="p"
        )
        recipients.apply(identity_event(registered, user, 1))

    def name(workspace_id: str) -> str | None:
        view = memberships.workspaces.get(workspace_id)
        return view.name if view is not None else None

    adapters: dict[str, Any] = {"telegram": NoTelegram(), "email": NoSupportMail()}
    if fake is not None:
        bot = make_bot(fake.token, fake.base_url, timeout=2)
        adapters["telegram"] = TelegramNotifier(bot, CHAT, LINKS, name)
    if smtp is not None:
        mailer = SmtpMailer("127.0.0.1", smtp.port, timeout=2)
        sender = "plutarc support <support@plutarc.test>"
        adapters["email"] = SupportEmailAdapter(mailer, sender, LINKS, recipients.email_of)
    spec = build(
        SupportSettings(**settings),
        memberships=memberships,
        recipients=recipients,
        adapters=adapters,
        inbound=[],
    )
    return Support(spec, ws, other, sqlite_path=tmp_path / f"s-{uuid4().hex[:6]}.sqlite")


def note(support: Support, ticket_id: str, body: str, actor: str = "user:op") -> None:
    support.ok(
        actor,
        s.AddInternalNote(
            workspace_id=support.ws, ticket_id=ticket_id, note_id=str(uuid4()), body=body
        ),
    )

"""Settings and wiring of support's outbound adapters: Telegram to operators, email to users.

`NotifySettings` is mixed into the service's settings (PLUTARC_* variables);
`notification_adapters(...)` builds the real `telegram` and `email` adapters from them, or ones
that send nothing and record why when they are not configured.
"""

from __future__ import annotations

from collections.abc import Callable

from plutarc_runtime.intents import Adapter
from plutarc_runtime.mail import SmtpMailer
from plutarc_runtime.service import Inbound
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .adapters.mail import NoSupportMail, SupportEmailAdapter
from .adapters.telegram import NoTelegram, TelegramNotifier, make_bot
from .telegram_replies import TelegramReplies


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    support_telegram_bot_token: SecretStr | None = Field(
        default=None, description="The operators' bot (from @BotFather); unset, no alert is sent"
    )
    support_telegram_chat_id: str | None = Field(
        default=None, description="The operators' chat: alerts go there, replies come from there"
    )
    support_telegram_api_url: str | None = Field(
        default=None,
        description="Bot API base URL, the token is appended (tests: the fake's "
        "http://127.0.0.1:PORT/bot); unset, Telegram's own",
    )
    support_telegram_operators: dict[int, str] = Field(
        default_factory=dict,
        description='Who may answer alerts from Telegram: JSON {"<telegram user id>": "<plutarc '
        'user id>"}; their replies post as that user, who must be a support operator',
    )
    support_link_base_url: str = Field(
        default="http://127.0.0.1:8000/support/tickets",
        description="Public base of a ticket's link in alerts and emails; the ticket id is appended",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for users' emails; unset, no email is sent"
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    mail_from: str = Field(default="plutarc support <support@plutarc.local>")


def telegram_adapter(
    settings: NotifySettings, workspace_names: Callable[[str], str | None] | None = None
) -> Adapter:
    token, chat = settings.support_telegram_bot_token, settings.support_telegram_chat_id
    if token is None or not chat:
        return NoTelegram()
    bot = make_bot(token.get_secret_value(), settings.support_telegram_api_url)
    return TelegramNotifier(bot, chat, settings.support_link_base_url, workspace_names)


def email_adapter(settings: NotifySettings, email_of: Callable[[str], str | None]) -> Adapter:
    if not settings.smtp_host:
        return NoSupportMail()
    mailer = SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
    )
    return SupportEmailAdapter(mailer, settings.mail_from, settings.support_link_base_url, email_of)


def telegram_inbound(settings: NotifySettings) -> list[Inbound]:
    """Operators' replies from Telegram, when a bot, a chat and at least one operator are set."""
    token, chat = settings.support_telegram_bot_token, settings.support_telegram_chat_id
    if token is None or not chat or not settings.support_telegram_operators:
        return []
    bot = make_bot(token.get_secret_value(), settings.support_telegram_api_url)
    return [TelegramReplies(bot, chat, settings.support_telegram_operators)]


def notification_adapters(
    settings: NotifySettings,
    email_of: Callable[[str], str | None],
    workspace_names: Callable[[str], str | None] | None = None,
) -> dict[str, Adapter]:
    return {
        "telegram": telegram_adapter(settings, workspace_names),
        "email": email_adapter(settings, email_of),
    }

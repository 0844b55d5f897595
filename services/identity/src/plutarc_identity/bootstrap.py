"""The identity service's wiring: build(settings) -> its spec, with real or fake adapters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from plutarc_access import AccessEngine, AccessError, engine_for
from plutarc_contracts import default_registry
from plutarc_contracts import identity as c
from plutarc_runtime.intents import Adapter
from plutarc_runtime.service import ServiceSpec

from .adapters.email import EmailAdapter, NoMail, SmtpMailer
from .domain import STREAM_TYPES
from .handlers import HANDLERS
from .memberships import authorizer_for
from .settings import IdentitySettings
from .timers import Expiries, timers


def real_adapters(settings: IdentitySettings) -> dict[str, Adapter]:
    if not settings.smtp_host:
        return {"email": NoMail()}
    mailer = SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
    )
    return {"email": EmailAdapter(mailer, settings.mail_from)}


def build(
    settings: IdentitySettings | None = None,
    *,
    adapters: Mapping[str, Adapter] | None = None,
    policy: AccessEngine | None = None,
) -> ServiceSpec:
    settings = settings or IdentitySettings()
    engine = policy or engine_for(settings.opa_url)
    return ServiceSpec(
        name=c.IDENTITY,
        registry=default_registry(),
        stream_types=STREAM_TYPES,
        handlers=HANDLERS,
        adapters=adapters if adapters is not None else real_adapters(settings),
        timers=timers(timedelta(seconds=settings.expiry_interval_seconds)),
        read_models=[Expiries],
        authorizer=authorizer_for(engine),
        transient_errors=(AccessError,),  # the policy server is down: retry, never dead-letter
    )

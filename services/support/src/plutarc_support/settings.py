"""The support service's typed settings (PLUTARC_* environment variables)."""

from __future__ import annotations

from datetime import timedelta

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from .notify import NotifySettings
from .periods import Periods


class SupportSettings(RuntimeSettings, NotifySettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    support_warn_after_days: float = Field(
        default=6, gt=0, description="Silence while waiting on the user before they are warned"
    )
    support_close_after_days: float = Field(
        default=7, gt=0, description="Silence after which a warned ticket closes"
    )
    support_reopen_within_days: float = Field(
        default=14,
        ge=0,
        description="A reply this soon after a ticket was resolved or auto-closed reopens it; "
        "later, it opens a follow-up",
    )
    support_timer_interval_seconds: float = Field(
        default=60, gt=0, description="How often silent tickets are looked for"
    )

    @model_validator(mode="after")
    def _warning_before_close(self) -> SupportSettings:
        self.periods()  # raises ValueError with the reason
        return self

    def periods(self) -> Periods:
        return Periods(
            warn_after=timedelta(days=self.support_warn_after_days),
            close_after=timedelta(days=self.support_close_after_days),
            reopen_within=timedelta(days=self.support_reopen_within_days),
        )

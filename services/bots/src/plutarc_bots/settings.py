"""The bots service's typed settings (PLUTARC_* environment variables)."""

from __future__ import annotations

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class BotsSettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    bots_timer_interval_seconds: float = Field(
        default=5,
        gt=0,
        description="How often trading windows that ended (and archived workspaces' running bots) "
        "are looked for",
    )

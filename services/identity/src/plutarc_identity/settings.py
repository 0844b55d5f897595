"""The identity service's typed settings (PLUTARC_* environment variables)."""

from __future__ import annotations

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class IdentitySettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    smtp_host: str | None = Field(
        default=None, description="SMTP server for invitation emails; unset, no email is sent"
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="STARTTLS after connecting")
    smtp_tls: bool = Field(default=False, description="TLS from the start (port 465)")
    mail_from: str = Field(default="plutarc <no-reply@plutarc.local>")
    expiry_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often invitations and sessions past expiry are ended"
    )

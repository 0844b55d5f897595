"""The gateway's typed settings (PLUTARC_* environment variables), on top of the runtime's."""

from __future__ import annotations

from pathlib import Path

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class ApiSettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str | None = Field(
        default=None,
        description="postgresql://... where the abuse limits shared by every worker and replica "
        "live; unset, in <data_dir>/api-limits.sqlite",
    )
    http_port: int = Field(default=8000, ge=0, le=65535)
    command_deadline: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to wait for a reply"
    )
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    token_rate: float = Field(default=100.0, gt=0, description="Requests per second per token")
    token_burst: int = Field(default=200, ge=1)
    ip_rate: float = Field(
        default=300.0, gt=0, description="Requests per second per client address"
    )
    ip_burst: int = Field(default=600, ge=1)
    login_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins per account (email), and per client address and account, "
        "within the window before throttling",
    )
    login_failures_per_address: int = Field(
        default=100,
        ge=1,
        description="Failed logins per client address alone within the window: a ceiling well "
        "above login_failures, so that many users behind one address (an office) are not locked out",
    )
    login_window_seconds: int = Field(default=900, ge=1)
    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="Derives the secrets of retried writes (same Idempotency-Key, same token); "
        "share it between replicas. Random per process when unset.",
    )
    checkpoint_interval: float = Field(
        default=300.0,
        ge=0,
        description="Seconds between checkpoints of the projections (in <data_dir>/"
        "api-projections.checkpoint), from which a restart resumes; 0: none, every start "
        "replays the topics from offset 0",
    )
    public_url: str | None = Field(
        default=None,
        pattern="^https?://",
        description="Where users reach plutarc (the dashboard); invitation emails link there. "
        "Unset, no invitation email is sent and the inviter passes the token on themselves",
    )
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19456, ge=1024)

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "api-projections.checkpoint"

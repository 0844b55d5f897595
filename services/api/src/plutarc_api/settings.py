"""The gateway's typed settings (PLUTARC_* environment variables), on top of the runtime's."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict


class ApiSettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str | None = Field(
        default=None,
        description="postgresql://... holding the API's read models, its shared state and the "
        "abuse limits, shared by every worker and replica; unset, SQLite files in <data_dir> "
        "(api-readmodels.sqlite, api-state.sqlite, api-limits.sqlite)",
    )
    http_port: int = Field(default=8000, ge=0, le=65535)
    ops_host: str = Field(
        default="127.0.0.1", description="Address of the ops endpoint (metrics), not the API's"
    )
    ops_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the ops endpoint: /metrics, /health, /ready (0 picks a free port)",
    )
    command_deadline: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to wait for a reply"
    )
    events_heartbeat: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="Seconds a live event stream may stay silent before it sends a comment, so "
        "that proxies and load balancers do not close it as idle",
    )
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    max_body_bytes: int = Field(default=512 * 1024, ge=1024)
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
        description="Derives the secrets of retried writes (same Idempotency-Key, same token). "
        "Unset, a key is made once and kept in the API's state database, which every worker and "
        "replica on that database shares; set it when replicas use different databases.",
    )
    api_modules: list[str] = Field(
        default_factory=list,
        description="The API modules to serve (entry points `plutarc.api`); empty: every one installed",
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="API worker processes behind the one port"
    )
    catch_up_in_child: int = Field(
        default=100_000,
        ge=0,
        description="A writer that starts at least this many events behind its topics (a new "
        "database, a rebuilt read model, a long outage) catches up in a child process that exits "
        "when done, so its memory goes back to the system; 0: always in the worker itself",
    )
    catch_up_processes: int = Field(
        default=2,
        ge=1,
        description="That catch-up spreads the read models over at most this many processes, "
        "one per core to use (one Kafka reader each; on SQLite each builds into a file of its "
        "own, merged when it is done)",
    )
    public_url: str | None = Field(
        default=None,
        pattern="^https?://",
        description="Where users reach plutarc (the dashboard); invitation emails link there. "
        "Unset, no invitation email is sent and the inviter passes the token on themselves",
    )
    web_dir: Path | None = Field(
        default=None,
        description="The built dashboard (`make web` builds web/dist) served at /; unset, the "
        "checkout's web/dist",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or CIDRs of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (comma-separated). Empty: none, the client address is the "
        "peer's, so no client picks its own rate-limit bucket",
    )
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19456, ge=1024)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value

"""Typed settings, read from the environment (PLUTARC_*) with embedded defaults for `make up`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    data_dir: Path = Field(default=Path("var/data"), description="Where SQLite stores live")
    database_url: str | None = Field(
        default=None, description="postgresql://... to store events in PostgreSQL instead of SQLite"
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    log_level: str = "INFO"
    log_json: bool = True
    snapshot_interval: int = Field(default=100, ge=0)
    aggregate_cache: int = Field(
        default=1000,
        ge=0,
        description="Aggregates kept in memory between commands (LRU, brought up to date from the "
        "store on every load; the command consumer keeps as many more between its batches, see "
        "single_writer); 0 turns both caches off",
    )
    command_batch: int = Field(
        default=500,
        ge=1,
        description="Commands of one partition decided into one transaction at most (each on the "
        "state the previous left; docs/runtime-batching.md); 1 stores each command on its own",
    )
    single_writer: bool = Field(
        default=True,
        description="This process is the only writer of its store: the command consumer keeps the "
        "aggregates it decided in memory between batches without reading them back; turn it off "
        "when several processes write one database",
    )
    command_ttl_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A command issued longer ago than this when the service reaches it is refused "
        "(command.expired) rather than carried out late; 0: no limit",
    )
    timer_poll: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between passes over the service's timers"
    )
    opa_url: str | None = Field(
        default=None,
        description="http://host:port of an OPA server running deploy/policy; "
        "unset, the policy is evaluated in-process (regopy)",
    )

    def sqlite_path(self, service: str) -> Path:
        return self.data_dir / f"{service}.sqlite"

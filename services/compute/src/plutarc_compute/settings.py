"""The compute service's typed settings (PLUTARC_* environment variables)."""

from __future__ import annotations

from typing import Literal

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class ComputeSettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    compute_provider: Literal["local", "aws", "memory"] = Field(
        default="local",
        description="Who provides the bots' hosts: `local` (loopback addresses and processes on "
        "this machine, through Pulumi), `aws` (an Elastic IP and an instance per bot, through "
        "Pulumi; needs the pulumi-resource-aws plugin), `memory` (nothing real: simulations)",
    )
    compute_sizes: str = Field(
        default="",
        description="Sizes to try, preferred first, comma-separated (aws: instance types); "
        "empty: the provider's own",
    )
    compute_timer_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often the scheduler decides"
    )
    compute_max_concurrent_wakes: int = Field(
        default=8, ge=1, le=1000, description="Hosts woken at once, at most"
    )
    compute_wake_attempts: int = Field(
        default=3, ge=1, le=20, description="Attempts of one size before the next size is tried"
    )
    compute_lead_margin: float = Field(
        default=1.5, ge=1, le=10, description="The lead time is the measured p95 wake times this"
    )
    compute_workspaces: str = Field(
        default="",
        description="Comma-separated workspace ids whose bots this compute service hosts; empty: "
        "every workspace. Shards hosting across services (one per provider or region).",
    )
    compute_pulumi_backend_url: str | None = Field(
        default=None,
        description="Where Pulumi keeps the stacks' state; unset: file:// under the data directory",
    )
    compute_pulumi_passphrase: SecretStr = Field(
        default=SecretStr("plutarc-local"),
        description="Encrypts secrets in the stacks' state (the state holds none by design)",
    )

    compute_egress_connect_ports: str = Field(
        default="443",
        pattern=r"^\d{1,5}(,\d{1,5})*$",
        description="Ports a host's egress proxy opens tunnels to (the venues'), comma-separated",
    )
    compute_aws_ami: str = Field(
        default="", description="aws: an image with python, plutarc and tinyproxy installed"
    )
    compute_aws_subnet_id: str = Field(default="", description="aws: the hosts' subnet")
    compute_aws_vpc_id: str = Field(default="", description="aws: the subnet's VPC")
    compute_aws_gateway_cidr: str = Field(
        default="",
        description="aws: the exchange gateway's network, the only source let in to a host's "
        "egress port",
    )
    compute_aws_region: str = Field(default="us-east-1", description="aws: the region")
    compute_aws_key_name: str | None = Field(default=None, description="aws: an SSH key pair")
    compute_aws_egress_port: int = Field(
        default=8888, ge=1, le=65535, description="aws: the egress proxy's port on a host"
    )
    compute_aws_egress_via: Literal["private", "public"] = Field(
        default="private",
        description="aws: the gateway reaches a host's egress proxy at its private address (in "
        "the VPC) or at its Elastic IP",
    )

    def workspaces(self) -> frozenset[str] | None:
        named = frozenset(w.strip() for w in self.compute_workspaces.split(",") if w.strip())
        return named or None

    def sizes(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.compute_sizes.split(",") if s.strip())

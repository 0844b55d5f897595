"""The pulumi-aws program of one bot (docs/compute-aws.md).

A pure function of (bot id, awake, size, settings): it declares, through an explicit AWS
provider for the settings' region (so a stack needs no configuration of its own),

- always the bot's **Elastic IP**, its address, kept while the bot sleeps. Its inputs depend on
  the bot id alone, so nothing a wake or a size changes can touch it, and it is protected: the
  engine refuses to delete or replace it (`keep_address=False` lifts that, for `release` only);
- when awake, the **instance** (``size`` is its type; AMI, subnet, key pair from the settings; a
  user-data script that starts the bot runtime and its egress proxy, holding no secret), a
  **security group** that lets in only the gateway's network, on the egress port alone, and an
  **EIP association** of that instance to that Elastic IP.

Outputs: ``address`` (the Elastic IP), ``allocation_id``, ``instance_id`` (absent while asleep).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from string import Template
from typing import Literal

import pulumi
import pulumi_aws as aws

USER_DATA_TEMPLATE = "aws_user_data.sh.tmpl"

_BOT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|AWS_(ACCESS|SESSION)",
    re.I,
)
_CREDENTIAL_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]*@")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/,=@+-]*$")
_SAFE_WORD = re.compile(r"^[A-Za-z0-9._/+-]+$")


class AwsConfigError(ValueError):
    """Settings or a host's environment the program refuses (named in the message)."""


@dataclass(frozen=True)
class AwsSettings:
    """What the aws provider needs from configuration. No credential: the AWS SDK inside the
    plugin reads those from the environment or an AWS profile (docs/compute-aws.md)."""

    ami: str
    """An image with python, plutarc and tinyproxy installed (arm64 for t4g sizes)."""
    subnet_id: str
    vpc_id: str
    gateway_cidr: str
    """The exchange gateway's network: the only source let in, to the egress port only."""
    region: str = "us-east-1"
    key_name: str | None = None
    egress_port: int = 8888
    egress_via: Literal["private", "public"] = "private"
    """Where the gateway reaches a host's egress proxy: the instance's private address (the
    gateway in the VPC or a peered one) or its Elastic IP (the gateway elsewhere)."""
    sizes: tuple[str, ...] = ("t4g.small", "t4g.medium")
    """Preferred first, then the fallbacks."""
    run_as: str = "plutarc"
    plutarc_bin: str = "/opt/plutarc/bin/plutarc"
    python_bin: str = "/opt/plutarc/bin/python"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            network = ipaddress.ip_network(self.gateway_cidr, strict=False)
        except ValueError:
            raise AwsConfigError(f"gateway_cidr is not a network: {self.gateway_cidr!r}") from None
        if network.prefixlen == 0:
            raise AwsConfigError("gateway_cidr must not be the whole internet")
        object.__setattr__(self, "gateway_cidr", str(network))
        if not 1 <= self.egress_port <= 65535:
            raise AwsConfigError(f"egress_port out of range: {self.egress_port}")
        if self.egress_via not in ("private", "public"):
            raise AwsConfigError(f"egress_via is private or public, not {self.egress_via!r}")
        if not self.sizes:
            raise AwsConfigError("at least one size is needed")
        for name in ("run_as", "plutarc_bin", "python_bin"):
            if not _SAFE_WORD.match(getattr(self, name)):
                raise AwsConfigError(f"{name} holds characters a shell script cannot take")


@dataclass(frozen=True)
class Declared:
    """What one run of the program declared (the tests and `program` read it)."""

    eip: aws.ec2.Eip
    instance: aws.ec2.Instance | None = None
    security_group: aws.ec2.SecurityGroup | None = None
    association: aws.ec2.EipAssociation | None = None


def check_bot_id(bot_id: str) -> str:
    if not _BOT_ID.match(bot_id):
        raise AwsConfigError(f"{bot_id!r} cannot name a bot's AWS resources")
    return bot_id


def check_env(env: Mapping[str, str]) -> dict[str, str]:
    """The host's environment: settings, never a secret. A name that looks like a secret, a URL
    with a password, or a value a shell or an EnvironmentFile could misread is refused."""
    for key, value in env.items():
        if not _ENV_KEY.match(key):
            raise AwsConfigError(f"environment name {key!r} is not NAME_LIKE_THIS")
        if _SECRET_NAME.search(key):
            raise AwsConfigError(f"{key} looks like a secret: secrets never go in user data")
        if _CREDENTIAL_IN_URL.search(value):
            raise AwsConfigError(f"{key} holds a URL with a password")
        if not _SAFE_VALUE.match(value):
            raise AwsConfigError(f"{key} holds characters an environment file cannot take")
    return dict(sorted(env.items()))


class _UserData(Template):
    delimiter = "@@"


def render_user_data(
    bot_id: str, settings: AwsSettings, env: Mapping[str, str], public_address: str
) -> str:
    """The instance's user data, from the template beside this module. ``public_address`` is the
    bot's Elastic IP: the address its venue traffic is seen from, which the runtime announces."""
    try:
        public = str(ipaddress.ip_address(public_address))
    except ValueError:
        raise AwsConfigError(f"not an address: {public_address!r}") from None
    text = (
        resources.files("plutarc_compute.providers").joinpath(USER_DATA_TEMPLATE).read_text("utf-8")
    )
    lines = "\n".join(f"{k}={v}" for k, v in check_env(env).items())
    return _UserData(text).substitute(
        bot_id=check_bot_id(bot_id),
        run_as=settings.run_as,
        plutarc=settings.plutarc_bin,
        python=settings.python_bin,
        egress_port=settings.egress_port,
        egress_host="${ADDR}" if settings.egress_via == "private" else public,
        public_address=public,
        gateway_cidr=settings.gateway_cidr,
        env_lines=lines,
    )


def _tags(bot_id: str, settings: AwsSettings, role: str) -> dict[str, str]:
    return {
        **settings.tags,
        "Name": f"plutarc-bot-{bot_id}-{role}",
        "plutarc:bot": bot_id,
        "plutarc:role": role,
    }


def declare(
    bot_id: str,
    *,
    awake: bool,
    size: str,
    settings: AwsSettings,
    env: Mapping[str, str] | None = None,
    keep_address: bool = True,
) -> Declared:
    """Declare the bot's resources (inside a Pulumi program) and export its outputs."""
    check_bot_id(bot_id)
    region = aws.Provider(f"{bot_id}-aws", region=settings.region)
    eip = aws.ec2.Eip(
        f"{bot_id}-address",
        domain="vpc",
        tags=_tags(bot_id, settings, "address"),
        opts=pulumi.ResourceOptions(provider=region, protect=keep_address, ignore_changes=["tags"]),
    )
    pulumi.export("address", eip.public_ip)
    pulumi.export("allocation_id", eip.allocation_id)
    if not awake:
        return Declared(eip=eip)
    if size not in settings.sizes:
        raise AwsConfigError(f"size {size!r} is not one of {settings.sizes}")
    group = aws.ec2.SecurityGroup(
        f"{bot_id}-egress",
        description=f"plutarc bot {bot_id}: the gateway to the egress proxy only",
        vpc_id=settings.vpc_id,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=settings.egress_port,
                to_port=settings.egress_port,
                cidr_blocks=[settings.gateway_cidr],
                description="exchange gateway to the egress proxy",
            )
        ],
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"]
            )
        ],
        tags=_tags(bot_id, settings, "egress"),
        opts=pulumi.ResourceOptions(provider=region),
    )
    instance = aws.ec2.Instance(
        f"{bot_id}-host",
        ami=settings.ami,
        instance_type=size,
        subnet_id=settings.subnet_id,
        key_name=settings.key_name,
        vpc_security_group_ids=[group.id],
        associate_public_ip_address=False,
        user_data=eip.public_ip.apply(
            lambda public: render_user_data(bot_id, settings, env or {}, public)
        ),
        user_data_replace_on_change=True,
        metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
            http_endpoint="enabled", http_tokens="required"
        ),
        tags=_tags(bot_id, settings, "host"),
        opts=pulumi.ResourceOptions(
            provider=region, replace_on_changes=["instanceType"], delete_before_replace=True
        ),
    )
    association = aws.ec2.EipAssociation(
        f"{bot_id}-association",
        allocation_id=eip.allocation_id,
        instance_id=instance.id,
        opts=pulumi.ResourceOptions(provider=region, delete_before_replace=True),
    )
    pulumi.export("instance_id", instance.id)
    return Declared(eip=eip, instance=instance, security_group=group, association=association)


def program(
    bot_id: str,
    *,
    awake: bool,
    size: str,
    settings: AwsSettings,
    env: Mapping[str, str] | None = None,
    keep_address: bool = True,
) -> Callable[[], None]:
    """The inline program for the Automation API (`auto.create_or_select_stack(program=...)`).
    Its arguments are checked now, so a bad setting fails before any stack is touched."""
    check_bot_id(bot_id)
    if awake:
        render_user_data(bot_id, settings, env or {}, "192.0.2.1")  # checks env and settings
        if size not in settings.sizes:
            raise AwsConfigError(f"size {size!r} is not one of {settings.sizes}")

    def run() -> None:
        declare(
            bot_id, awake=awake, size=size, settings=settings, env=env, keep_address=keep_address
        )

    return run

"""The aws provider the compute service's settings describe, on the shared Pulumi stacks.

It refuses to start (`ProviderUnavailable`, with what to do) when the pulumi CLI is missing, when
the AWS provider plugin is not installed where the engine looks (it cannot be fetched here:
docs/compute-aws.md says how to install it), or when the settings lack what the program needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .aws import AwsProvider, check_aws_plugin
from .aws_program import AwsConfigError, AwsSettings
from .base import ProviderUnavailable
from .stacks import PulumiSettings, Stacks

if TYPE_CHECKING:
    from ..settings import ComputeSettings

PROJECT = "plutarc-compute-aws"


def make_aws_provider(settings: ComputeSettings) -> AwsProvider:
    missing = [
        name
        for name in ("ami", "subnet_id", "vpc_id", "gateway_cidr")
        if not getattr(settings, f"compute_aws_{name}")
    ]
    if missing:
        names = ", ".join(f"PLUTARC_COMPUTE_AWS_{m.upper()}" for m in missing)
        raise ProviderUnavailable(f"the aws provider needs {names} (docs/compute-aws.md)")
    try:
        aws = AwsSettings(
            ami=settings.compute_aws_ami,
            subnet_id=settings.compute_aws_subnet_id,
            vpc_id=settings.compute_aws_vpc_id,
            gateway_cidr=settings.compute_aws_gateway_cidr,
            region=settings.compute_aws_region,
            key_name=settings.compute_aws_key_name,
            egress_port=settings.compute_aws_egress_port,
            egress_via=settings.compute_aws_egress_via,
            sizes=settings.sizes() or ("t4g.small", "t4g.medium"),
        )
    except AwsConfigError as exc:
        raise ProviderUnavailable(f"the aws provider's settings: {exc}") from None
    pulumi = PulumiSettings(
        data_dir=settings.data_dir,
        backend_url=settings.compute_pulumi_backend_url,
        passphrase=settings.compute_pulumi_passphrase.get_secret_value(),
        max_concurrent=settings.compute_max_concurrent_wakes,
    )
    stacks = Stacks(pulumi, PROJECT)
    stacks.check()
    check_aws_plugin(pulumi_home=pulumi.pulumi_home, environ=pulumi.env())
    return AwsProvider(aws, stacks)

"""The aws program under Pulumi's mocks: what exists asleep and awake, and how it is wired."""

from __future__ import annotations

from dataclasses import replace

import pytest
from plutarc_compute.providers.aws_program import (
    AwsConfigError,
    AwsSettings,
    check_env,
    declare,
    program,
    render_user_data,
)

from .pulumi_mocks import (
    ASSOCIATION,
    EIP,
    GROUP,
    INSTANCE,
    PROVIDER,
    Run,
    address_of,
    run_under_mocks,
)

BOT = "7c0e2b7e-4c1a-4d59-9a55-2f1c3f0b9d11"
SETTINGS = AwsSettings(
    ami="ami-0abc",
    subnet_id="subnet-0abc",
    vpc_id="vpc-0abc",
    gateway_cidr="198.51.100.0/24",
    key_name="ops",
    egress_port=8888,
    region="eu-central-1",
)
ENV = {"PLUTARC_KAFKA_BOOTSTRAP": "10.0.0.5:9092", "PLUTARC_DATA_DIR": "/var/lib/plutarc"}
SECRET_VALUES = ("hunter2", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def run_program(*, awake: bool, size: str = "t4g.small", keep_address: bool = True) -> Run:
    return run_under_mocks(
        lambda: declare(
            BOT, awake=awake, size=size, settings=SETTINGS, env=ENV, keep_address=keep_address
        ),
        stack=f"bot-{BOT}",
    )


def test_asleep_the_elastic_ip_and_nothing_else() -> None:
    run = run_program(awake=False)
    assert [(r.typ, r.name) for r in run.declared] == [(EIP, f"{BOT}-address")]
    assert run.one(EIP).inputs["domain"] == "vpc"
    assert run.outputs == {
        "address": address_of(f"{BOT}-address"),
        "allocation_id": f"eipalloc-{BOT}-address",
    }


def test_awake_an_instance_its_security_group_and_the_association_to_that_eip() -> None:
    run = run_program(awake=True)
    assert sorted(r.typ for r in run.declared) == sorted([EIP, INSTANCE, GROUP, ASSOCIATION])
    association = run.one(ASSOCIATION).inputs
    assert association == {
        "allocationId": f"eipalloc-{BOT}-address",
        "instanceId": f"i-{BOT}-host",
    }
    instance = run.one(INSTANCE).inputs
    assert instance["instanceType"] == "t4g.small"
    assert instance["ami"] == "ami-0abc"
    assert instance["subnetId"] == "subnet-0abc"
    assert instance["keyName"] == "ops"
    assert instance["vpcSecurityGroupIds"] == [f"{BOT}-egress-id"]
    assert instance["associatePublicIpAddress"] is False
    assert instance["metadataOptions"]["httpTokens"] == "required"
    assert run.outputs == {
        "address": address_of(f"{BOT}-address"),
        "allocation_id": f"eipalloc-{BOT}-address",
        "instance_id": f"i-{BOT}-host",
    }


@pytest.mark.parametrize("awake", [False, True])
def test_every_resource_goes_through_the_programs_provider_of_the_settings_region(
    awake: bool,
) -> None:
    run = run_program(awake=awake)
    provider = run.one(PROVIDER)
    assert provider.inputs["region"] == "eu-central-1"
    assert all(r.provider and f"::{provider.name}::" in r.provider for r in run.declared)


def test_the_security_group_lets_in_only_the_gateway_on_the_egress_port() -> None:
    group = run_program(awake=True).one(GROUP).inputs
    assert group["vpcId"] == "vpc-0abc"
    (rule,) = group["ingress"]
    assert rule["cidrBlocks"] == ["198.51.100.0/24"]
    assert rule["protocol"] == "tcp"
    assert (rule["fromPort"], rule["toPort"]) == (8888, 8888)
    assert "ipv6CidrBlocks" not in rule and "securityGroups" not in rule


def test_the_eip_is_the_same_declaration_asleep_awake_and_at_every_size() -> None:
    runs = [
        run_program(awake=False),
        run_program(awake=True, size="t4g.small"),
        run_program(awake=True, size="t4g.medium"),
    ]
    eips = [run.one(EIP) for run in runs]
    assert all((e.name, e.inputs) == (eips[0].name, eips[0].inputs) for e in eips)
    for eip in eips:
        assert eip.options is not None
        assert eip.options.protect is True, "a replace or delete of the address must be refused"
        assert not eip.options.replace_on_changes


def test_a_size_change_replaces_the_instance_not_the_eip() -> None:
    small = run_program(awake=True, size="t4g.small").one(INSTANCE)
    medium = run_program(awake=True, size="t4g.medium").one(INSTANCE)
    assert small.name == medium.name
    changed = {k for k in small.inputs if small.inputs[k] != medium.inputs.get(k)}
    assert changed == {"instanceType"}
    assert medium.options is not None
    assert medium.options.replace_on_changes == ["instanceType"]
    assert medium.options.delete_before_replace is True


def test_release_lifts_the_protection_of_the_address() -> None:
    eip = run_program(awake=False, keep_address=False).one(EIP)
    assert eip.options is not None and eip.options.protect is False


def test_a_size_not_in_the_settings_is_refused_before_any_stack_is_touched() -> None:
    with pytest.raises(AwsConfigError, match=r"t3\.nano"):
        program(BOT, awake=True, size="t3.nano", settings=SETTINGS)
    with pytest.raises(AwsConfigError, match="cannot name"):
        program("bot; rm -rf /", awake=False, size="t4g.small", settings=SETTINGS)


def test_user_data_starts_the_runtime_bound_to_the_instance_address_and_its_egress() -> None:
    text = run_program(awake=True).one(INSTANCE).inputs["userData"]
    public = address_of(f"{BOT}-address")
    assert text == render_user_data(BOT, SETTINGS, ENV, public)
    assert text.startswith("#!/bin/bash\n")
    assert "@@" not in text
    assert "ADDR=$(imds local-ipv4)" in text
    assert (
        f"-m plutarc_bots.egress --bot-id {BOT} --bind ${{ADDR}} --listen ${{ADDR}}:8888 "
        "--allow 198.51.100.0/24" in text
    )
    # The runtime starts no proxy of its own (one on the loopback the gateway cannot reach): it
    # announces the egress unit's, at the instance's address, and the Elastic IP the venues see.
    assert (
        f"/opt/plutarc/bin/plutarc bot run {BOT} --egress-bind {public} "
        "--egress-url http://${ADDR}:8888\n" in text
    )
    assert f'echo "PLUTARC_BOT_PUBLIC_ADDRESS={public}" >> /etc/plutarc/bot.env' in text
    assert "PLUTARC_KAFKA_BOOTSTRAP=10.0.0.5:9092\n" in text


def test_a_gateway_outside_the_vpc_reaches_the_egress_at_the_elastic_ip() -> None:
    public = replace(SETTINGS, egress_via="public")
    text = render_user_data(BOT, public, ENV, "203.0.113.7")
    assert "--egress-bind 203.0.113.7 --egress-url http://203.0.113.7:8888\n" in text
    with pytest.raises(AwsConfigError, match="private or public"):
        replace(SETTINGS, egress_via="elsewhere")  # type: ignore[arg-type]
    with pytest.raises(AwsConfigError, match="not an address"):
        render_user_data(BOT, SETTINGS, ENV, "203.0.113.7; reboot")


def test_user_data_holds_no_secret() -> None:
    text = render_user_data(BOT, SETTINGS, ENV, "203.0.113.7")
    lowered = text.lower()
    for word in ("secret", "password", "passphrase", "api_key", "apikey", "aws_access"):
        assert word not in lowered
    assert not any(value in text for value in SECRET_VALUES)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BINANCE_API_KEY": SECRET_VALUES[1]}, "looks like a secret"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET_VALUES[2]}, "looks like a secret"),
        ({"PLUTARC_DB_PASSWORD": SECRET_VALUES[0]}, "looks like a secret"),
        ({"PLUTARC_PG": "postgresql://app:hunter2@db/plutarc"}, "URL with a password"),
        ({"PLUTARC_X": "a\nEVIL=1"}, "cannot take"),
        ({"PLUTARC_X": "$(reboot)"}, "cannot take"),
        ({"lower": "x"}, "NAME_LIKE_THIS"),
    ],
)
def test_a_secret_or_unsafe_environment_is_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(AwsConfigError, match=message):
        check_env(env)
    with pytest.raises(AwsConfigError):
        program(BOT, awake=True, size="t4g.small", settings=SETTINGS, env=env)


def test_settings_refuse_an_open_gateway_network() -> None:
    with pytest.raises(AwsConfigError, match="whole internet"):
        AwsSettings(ami="a", subnet_id="s", vpc_id="v", gateway_cidr="0.0.0.0/0")
    with pytest.raises(AwsConfigError, match="not a network"):
        AwsSettings(ami="a", subnet_id="s", vpc_id="v", gateway_cidr="gateway.internal")
    assert AwsSettings(
        ami="a", subnet_id="s", vpc_id="v", gateway_cidr="10.0.0.9"
    ).gateway_cidr == ("10.0.0.9/32")

"""Running a Pulumi program under Pulumi's mocks, recording what it declared (type, name, inputs,
options) and its stack outputs."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

PROVIDER = "pulumi:providers:aws"
EIP, INSTANCE, GROUP, ASSOCIATION = (
    "aws:ec2/eip:Eip",
    "aws:ec2/instance:Instance",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/eipAssociation:EipAssociation",
)


def address_of(name: str) -> str:
    """The mock Elastic IP of a resource name: stable, as AWS keeps an allocation's address."""
    return f"203.0.113.{zlib.crc32(name.encode()) % 250 + 1}"


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    provider: str | None = None
    """The provider reference (``urn::id``) the resource was registered with."""
    options: pulumi.ResourceOptions | None = None


@dataclass
class Run:
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def declared(self) -> list[Registered]:
        """The resources, without the program's provider."""
        return [r for r in self.resources if r.typ != PROVIDER]

    def of(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str) -> Registered:
        (found,) = self.of(typ)
        return found


InstanceIds = Callable[[str, dict[str, Any]], str]
"""(name, inputs) -> the id of the instance the mock creates."""


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, run: Run, instance_ids: InstanceIds | None = None) -> None:
        self.run = run
        self.instance_ids = instance_ids or (lambda name, inputs: f"i-{name}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        registered = Registered(args.typ, args.name, dict(args.inputs), args.provider)
        self.run.resources.append(registered)
        state = dict(args.inputs)
        if args.typ == EIP:
            state.update(public_ip=address_of(args.name), allocation_id=f"eipalloc-{args.name}")
            return f"eipalloc-{args.name}", state
        if args.typ == INSTANCE:
            state.update(private_ip="10.0.1.20")
            return self.instance_ids(args.name, dict(args.inputs)), state
        return f"{args.name}-id", state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, []


def run_under_mocks(
    program: Callable[[], object], *, stack: str = "test", instance_ids: InstanceIds | None = None
) -> Run:
    run = Run()
    # Pulumi's test runner drives the thread's current event loop; an asyncio test before this
    # one may have closed it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root stack: no outputs or transforms left over
    pulumi.runtime.set_mocks(
        RecordingMocks(run, instance_ids), project="plutarc", stack=stack, preview=False
    )
    options: dict[str, pulumi.ResourceOptions] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        options[args.name] = args.opts

    pulumi.runtime.register_stack_transformation(record)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def go() -> pulumi.Output[None]:
        program()
        root = pulumi.runtime.get_root_resource()
        assert isinstance(root, pulumi.runtime.stack.Stack)
        return pulumi.Output.from_input(root.outputs).apply(run.outputs.update)

    try:
        go()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    for registered in run.resources:
        registered.options = options.get(registered.name)
    return run

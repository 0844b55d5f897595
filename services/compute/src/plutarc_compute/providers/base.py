"""The one interface every compute provider implements.

A bot's host has two parts with two lifetimes:

- its **address**: allocated at the bot's first wake and kept while the bot sleeps (the venue sees
  one origin; API keys restricted to it keep working), released only when the bot is deleted;
- its **host**: created on wake (the bot runtime and its venue egress proxy, bound to the address
  as the source of every outbound connection), deleted on sleep.

Every operation is idempotent and converges: `wake` of an awake host returns it as it is, `sleep`
of an asleep host does nothing, and a call repeated after a crash in the middle of the first one
(a killed process, a stack left locked) finishes the work once rather than doing it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class HostSpec:
    """What a woken host must run."""

    bot_id: str
    workspace_id: str
    size: str
    """The provider's size name (`Provider.sizes`): the preferred one first, a fallback after a
    failed attempt."""
    env: dict[str, str] = field(default_factory=dict)
    """Settings for the bot runtime on the host (Kafka bootstrap, data directory); no secret."""


@dataclass(frozen=True)
class Awake:
    address: str
    host_id: str
    """The provider's name for the host (a process id, an instance id)."""
    size: str


@dataclass(frozen=True)
class Observed:
    """What the provider's state holds for a bot now."""

    address: str | None
    """The kept address; None when none was allocated yet, or after `release`."""
    host_id: str | None
    """None while asleep."""
    address_on_host: bool
    """The address is attached to this host (False while asleep)."""


class ProvisioningFailed(Exception):
    """A wake that failed. ``retryable``: the same size may succeed later (capacity, a timeout);
    otherwise only another size can (the size is not offered, a quota)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class StackBusy(Exception):
    """The bot's stack is locked by another update that is still alive; retry later."""


class Provider(Protocol):
    name: str
    """`local`, `aws`, `memory`: the key of the price table and of the lead time."""
    sizes: tuple[str, ...]
    """Sizes to try, preferred first."""

    async def wake(self, spec: HostSpec) -> Awake: ...

    async def sleep(self, bot_id: str) -> None: ...

    async def release(self, bot_id: str) -> None:
        """Delete the host and the address (the bot was deleted)."""
        ...

    async def observe(self, bot_id: str) -> Observed: ...


class ProviderUnavailable(Exception):
    """The provider cannot run on this machine (the pulumi CLI or a provider plugin is missing);
    the message says how to install what is missing. The service refuses to start."""

"""`vault`: a tiny bounded context for tests of tools that must work for any service (the audit log).

It is not in the catalogue, so `default_registry()` does not know it: tests build its registry with
`vault_registry()`. A safe belongs to a workspace, has a label, holds items, and was opened with a
PIN whose hash its contract declares secret. `Vault` runs its commands on a real store, the way the
service would (replies included), without Kafka.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from plutarc_contracts import (
    CommandAccepted,
    Envelope,
    Payload,
    Registry,
    register_system_types,
)
from plutarc_runtime.clock import FakeClock
from plutarc_runtime.commands import CommandOutcome, CommandProcessor, LocalDispatcher
from plutarc_runtime.domain import Aggregate, DomainError
from plutarc_runtime.handling import Accepted, Context, Handler
from plutarc_runtime.store import EventStore

VAULT = "vault"


class SafeOpened(Payload, frozen=True, kw_only=True):
    safe_id: str
    workspace_id: str
    label: str
    pin_hash: str


class SafeRelabelled(Payload, frozen=True, kw_only=True):
    safe_id: str
    workspace_id: str
    previous_label: str
    label: str


class ItemStored(Payload, frozen=True, kw_only=True):
    safe_id: str
    workspace_id: str
    item: str


class ItemTaken(Payload, frozen=True, kw_only=True):
    safe_id: str
    workspace_id: str
    item: str


class OpenSafe(Payload, frozen=True, kw_only=True):
    safe_id: str
    workspace_id: str
    label: str
    pin_hash: str


class RelabelSafe(Payload, frozen=True, kw_only=True):
    safe_id: str
    label: str


class StoreItem(Payload, frozen=True, kw_only=True):
    safe_id: str
    item: str


class TakeItem(Payload, frozen=True, kw_only=True):
    safe_id: str
    item: str


class Safe(Aggregate):
    stream_type: ClassVar[str] = "vault.safe"

    safe_id: str
    workspace_id: str
    label: str
    items: list[str]

    @classmethod
    def open(cls, cmd: OpenSafe, at: datetime) -> Safe:
        safe = cls(UUID(cmd.safe_id))
        safe._trigger(SafeOpened(**msgspec.structs.asdict(cmd)), at)
        return safe

    def _ids(self) -> dict[str, str]:
        return {"safe_id": self.safe_id, "workspace_id": self.workspace_id}

    def relabel(self, label: str, at: datetime) -> None:
        self._trigger(SafeRelabelled(**self._ids(), previous_label=self.label, label=label), at)

    def store(self, item: str, at: datetime) -> None:
        self._trigger(ItemStored(**self._ids(), item=item), at)

    def take(self, item: str, at: datetime) -> None:
        if item not in self.items:
            raise DomainError(f"no {item} in the safe", code="vault.no_such_item", field="item")
        self._trigger(ItemTaken(**self._ids(), item=item), at)

    def apply(self, payload: msgspec.Struct, at: datetime) -> None:
        match payload:
            case SafeOpened():
                self.safe_id, self.workspace_id = payload.safe_id, payload.workspace_id
                self.label, self.items = payload.label, []
            case SafeRelabelled():
                self.label = payload.label
            case ItemStored():
                self.items.append(payload.item)
            case ItemTaken():
                self.items.remove(payload.item)


class SafeState(msgspec.Struct):
    safe_id: str
    label: str
    items: list[str]


class VaultAsOf(msgspec.Struct):
    workspace_id: str
    as_of: datetime
    exists: bool
    safes: list[SafeState]


class VaultAsOfFold:
    """The vault's as-of fold: a workspace's safes and their items at an instant."""

    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id
        self.safes: dict[str, SafeState] = {}

    def wants(self, type_name: str, workspace_id: str | None) -> bool:
        return workspace_id == self.workspace_id

    def apply(self, env: Envelope) -> None:
        match env.payload:
            case SafeOpened(safe_id=safe_id, label=label):
                self.safes[safe_id] = SafeState(safe_id, label, [])
            case SafeRelabelled(safe_id=safe_id, label=label):
                self.safes[safe_id].label = label
            case ItemStored(safe_id=safe_id, item=item):
                self.safes[safe_id].items.append(item)
            case ItemTaken(safe_id=safe_id, item=item):
                self.safes[safe_id].items.remove(item)

    def state(self, instant: datetime) -> VaultAsOf:
        safes = sorted(self.safes.values(), key=lambda s: s.label)
        return VaultAsOf(self.workspace_id, instant, bool(safes), safes)


def vault_registry(*, fold: bool = True) -> Registry:
    """The vault's types (frozen), with its as-of fold unless `fold=False`."""
    registry = register_system_types(Registry())
    registry.register_event("vault.safe_opened", {1: SafeOpened}, secret_fields=["pin_hash"])
    registry.register_event("vault.safe_relabelled", {1: SafeRelabelled})
    registry.register_event("vault.item_stored", {1: ItemStored})
    registry.register_event("vault.item_taken", {1: ItemTaken})
    registry.register_command("vault.open_safe", {1: OpenSafe})
    registry.register_command("vault.relabel_safe", {1: RelabelSafe})
    registry.register_command("vault.store_item", {1: StoreItem})
    registry.register_command("vault.take_item", {1: TakeItem})
    if fold:
        registry.register_as_of_fold(VAULT, VaultAsOfFold)
    return registry.freeze()


def open_safe(cmd: OpenSafe, ctx: Context) -> Accepted:
    return Accepted([Safe.open(cmd, ctx.now)])


def relabel(cmd: RelabelSafe, ctx: Context) -> Accepted:
    safe = ctx.store.get(Safe, UUID(cmd.safe_id))
    safe.relabel(cmd.label, ctx.now)
    return Accepted([safe])


def store_item(cmd: StoreItem, ctx: Context) -> Accepted:
    safe = ctx.store.get(Safe, UUID(cmd.safe_id))
    safe.store(cmd.item, ctx.now)
    return Accepted([safe])


def take(cmd: TakeItem, ctx: Context) -> Accepted:
    safe = ctx.store.get(Safe, UUID(cmd.safe_id))
    safe.take(cmd.item, ctx.now)
    return Accepted([safe])


HANDLERS: dict[type[Any], Handler] = {
    OpenSafe: open_safe,
    RelabelSafe: relabel,
    StoreItem: store_item,
    TakeItem: take,
}


class Vault:
    """The vault service's command path on a real store (SQLite file or PostgreSQL database)."""

    def __init__(
        self,
        *,
        sqlite_path: Path | None = None,
        database_url: str | None = None,
        name: str = VAULT,
        registry: Registry | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.registry = registry or vault_registry()
        self.store = EventStore(
            name=name,
            producer=name,
            registry=self.registry,
            sqlite_path=sqlite_path,
            database_url=database_url,
            clock=self.clock,
            stream_types=[Safe, CommandOutcome],
        )
        self.bus = LocalDispatcher(
            CommandProcessor(self.store, self.registry, HANDLERS, self.clock)
        )

    def ok(self, actor: str, payload: Any, workspace_id: str) -> CommandAccepted:
        reply = self.bus.send(actor, payload, workspace_id=workspace_id)
        assert isinstance(reply, CommandAccepted), reply
        return reply

    def close(self) -> None:
        self.store.close()

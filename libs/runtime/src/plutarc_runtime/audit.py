"""The audit log of any service, read from its event store: entries, exports and state as of an instant.

Every stored event of the service's context is an audit entry (`plutarc_contracts.audit.AuditEntry`):
who (actor) did what (action) to what (target), what it was before and after, when, and in which
correlation. The fields the contracts declare secret for the event's type are redacted; command
replies and dead letters (`system.*`) are not entries. The state as of an instant comes from the
as-of fold the context registered in its contracts. Reads go straight to the notification log
through the chained recorder's raw `scan`, with a header-only decode, so a full scan runs at hundreds
of thousands of events a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import msgspec
from plutarc_contracts import ContractError, Registry
from plutarc_contracts.audit import AuditEntry, split_before_after, target_of
from plutarc_contracts.errors import NOT_JSON

from .store import EventStore

Progress = Callable[[int], None]


class NoAsOfFold(LookupError):
    """The context registered no as-of fold, so its state cannot be replayed to an instant."""


class _Header(msgspec.Struct):
    event_id: str
    type: str
    schema_version: int
    occurred_at: datetime
    workspace_id: str | None
    actor: str
    correlation_id: str
    causation_id: str | None
    payload: msgspec.Raw


_header = msgspec.json.Decoder(_Header)


class AuditReader:
    """Reads one service's audit log from its store; `context` defaults to the store's name."""

    def __init__(self, store: EventStore, *, context: str | None = None, batch: int = 10_000):
        self.store = store
        self.registry: Registry = store.registry
        self.context = context or store.name
        self.batch = batch

    def _scan(self, progress: Progress | None) -> Iterator[tuple[int, _Header, bytes]]:
        """(position, header, stored bytes) of each of the context's events, oldest first."""
        prefix = f"{self.context}."
        decode = _header.decode
        start, seen = 1, 0
        while rows := self.store.chain.scan(start, self.batch):
            for nid, _oid, _version, topic, state, _hash in rows:
                if not topic.startswith(prefix):
                    continue
                try:
                    header = decode(state)
                except msgspec.DecodeError as exc:
                    raise ContractError(
                        NOT_JSON, f"stored event {nid} is not a readable envelope: {exc}"
                    ) from exc
                yield nid, header, state
            seen += len(rows)
            if progress is not None:
                progress(seen)
            start = rows[-1][0] + 1

    def entries(
        self,
        *,
        workspace_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        progress: Progress | None = None,
    ) -> Iterator[AuditEntry]:
        """The entries that pass every filter given, in store order (`since`/`until` inclusive)."""
        for position, h, _ in self._scan(progress):
            if workspace_id is not None and h.workspace_id != workspace_id:
                continue
            if since is not None and h.occurred_at < since:
                continue
            if until is not None and h.occurred_at > until:
                continue
            if actor is not None and h.actor != actor:
                continue
            struct = self.registry.decode_payload(h.type, h.schema_version, bytes(h.payload))
            payload: dict[str, Any] = msgspec.to_builtins(struct)
            before, after = split_before_after(payload, self.registry.secret_fields(h.type))
            yield AuditEntry(
                position=position,
                event_id=h.event_id,
                occurred_at=h.occurred_at,
                actor=h.actor,
                action=h.type,
                workspace_id=h.workspace_id,
                target=target_of(payload, h.workspace_id),
                before=before,
                after=after,
                correlation_id=h.correlation_id,
                causation_id=h.causation_id,
            )

    def as_of(
        self, workspace_id: str, instant: datetime, progress: Progress | None = None
    ) -> msgspec.Struct:
        """The workspace's state at `instant`, from the as-of fold its context registered.

        Raises NoAsOfFold, before reading anything, if the context registered none.
        """
        make_fold = self.registry.as_of_fold(self.context)
        if make_fold is None:
            raise NoAsOfFold(
                f"the `{self.context}` contracts register no as-of fold, so its state cannot be "
                "replayed to an instant (verify and export still work)"
            )
        fold = make_fold(workspace_id)
        for _, h, state in self._scan(progress):
            if h.occurred_at <= instant and fold.wants(h.type, h.workspace_id):
                fold.apply(self.registry.decode_event(state))
        return fold.state(instant)

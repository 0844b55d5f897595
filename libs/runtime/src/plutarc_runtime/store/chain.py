"""Hash-chained event recorders and the check that walks the chain.

Every stored event gets `hash = sha256(prev_hash + canonical bytes)`, written in the same transaction
as the event and under the same write lock, so the chain follows the notification order exactly.
The same recorders keep an inbox of consumed event ids (written atomically with the consumer's own
events and tracking), which is how consumers drop duplicates by `event_id`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

GENESIS = bytes(32)


def id_hex(originator_id: UUID | str) -> str:
    """The originator id as 32 lower-case hex digits: how SQLite stores it, cheap to produce."""
    if isinstance(originator_id, UUID):
        return originator_id.hex
    text = originator_id.replace("-", "").lower()
    return text if len(text) == 32 else UUID(originator_id).hex


def canonical_bytes(
    notification_id: int, originator_id: UUID | str, version: int, topic: str, state: bytes
) -> bytes:
    head = f"{notification_id}\x1f{id_hex(originator_id)}\x1f{version}\x1f{topic}\x1f"
    # A row rewritten by hand may come back as text rather than bytes; hash what is there.
    body = state if isinstance(state, bytes | bytearray | memoryview) else str(state).encode()
    return head.encode() + bytes(body)


def link(prev: bytes, notification_id: int, stored: StoredEvent) -> bytes:
    data = canonical_bytes(
        notification_id, stored.originator_id, stored.originator_version, stored.topic, stored.state
    )
    return hashlib.sha256(prev + data).digest()


Row = tuple[int, str, int, str, bytes, bytes | None]
"""(notification id, originator id hex, version, topic, state, chain hash or None)."""


class ChainedRecorder:
    """What the store, relay and auditors need beyond eventsourcing's recorders."""

    _links: threading.local

    def _remember_links(self, rows: list[tuple[int, bytes]]) -> None:
        """Keep the chain hashes this thread's last insert computed (see `last_links`)."""
        self._links.rows = rows

    def last_links(self) -> dict[int, bytes]:
        """The chain hashes computed by the last insert in this thread, by notification id.

        Valid once that insert's transaction committed; the store hands them to its followers (the
        relay) so that they need not read them back. Empty when this thread inserted no events.
        """
        return dict(getattr(self._links, "rows", ()))

    def scan(self, start: int, limit: int) -> list[Row]:
        """Raw rows in notification order with their chain hash: no per-row objects, for speed."""
        raise NotImplementedError

    def select_hashes(self, start: int, stop: int) -> dict[int, bytes]:
        raise NotImplementedError

    def has_inbox_id(self, event_id: str) -> bool:
        raise NotImplementedError

    def existing(self, ids: Sequence[UUID]) -> set[UUID]:
        """Which of `ids` have stored events, in one query."""
        raise NotImplementedError

    def head(self) -> tuple[int, bytes]:
        """The last chained notification id and its hash (0 and the genesis hash when empty)."""
        raise NotImplementedError


class ChainedSQLiteRecorder(SQLiteProcessRecorder, ChainedRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        # Set before super().__init__, which builds the CREATE TABLE statements.
        self.chain_table = f"{events_table_name}_chain"
        self.inbox_table = f"{events_table_name}_inbox"
        self._links = threading.local()
        super().__init__(datastore, events_table_name=events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.chain_table} "
            "(notification_id INTEGER PRIMARY KEY, hash BLOB NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.inbox_table} (event_id TEXT PRIMARY KEY) WITHOUT ROWID"
        )
        return statements

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._remember_links([])
        ids = super()._insert_events(c, stored_events, **kwargs)
        inbox_ids: Iterable[str] = kwargs.get("inbox_ids") or ()
        c.executemany(
            f"INSERT INTO {self.inbox_table} (event_id) VALUES (?)", [(i,) for i in inbox_ids]
        )
        if ids:
            c.execute(f"SELECT hash FROM {self.chain_table} ORDER BY notification_id DESC LIMIT 1")
            row = c.fetchone()
            prev = bytes(row[0]) if row else GENESIS
            rows = []
            for nid, stored in zip(ids, stored_events, strict=True):
                prev = link(prev, nid, stored)
                rows.append((nid, prev))
            c.executemany(f"INSERT INTO {self.chain_table} VALUES (?, ?)", rows)
            self._remember_links(rows)
        return ids

    def scan(self, start: int, limit: int) -> list[Row]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, h.hash "
                f"FROM {self.events_table_name} e LEFT JOIN {self.chain_table} h "
                "ON h.notification_id = e.rowid WHERE e.rowid >= ? ORDER BY e.rowid LIMIT ?",
                (start, limit),
            )
            return [tuple(row) for row in c.fetchall()]

    def select_hashes(self, start: int, stop: int) -> dict[int, bytes]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT notification_id, hash FROM {self.chain_table} "
                "WHERE notification_id >= ? AND notification_id <= ?",
                (start, stop),
            )
            return {row[0]: bytes(row[1]) for row in c.fetchall()}

    def has_inbox_id(self, event_id: str) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {self.inbox_table} WHERE event_id = ?", (event_id,))
            return c.fetchone() is not None

    def existing(self, ids: Sequence[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = [i.hex for i in ids[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                c.execute(
                    f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({marks})",
                    chunk,
                )
                found.update(UUID(row[0]) for row in c.fetchall())
        return found

    def head(self) -> tuple[int, bytes]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT notification_id, hash FROM {self.chain_table} "
                "ORDER BY notification_id DESC LIMIT 1"
            )
            row = c.fetchone()
            return (row[0], bytes(row[1])) if row else (0, GENESIS)


class ChainedPostgresRecorder(PostgresProcessRecorder, ChainedRecorder):
    def __init__(
        self,
        datastore: Any,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        self._links = threading.local()
        schema = Identifier(self.datastore.schema)
        self._chain = SQL("{}.{}").format(schema, Identifier(f"{events_table_name}_chain"))
        self._inbox = SQL("{}.{}").format(schema, Identifier(f"{events_table_name}_inbox"))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (notification_id bigint PRIMARY KEY, hash bytea NOT NULL)"
            ).format(self._chain)
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {} (event_id text PRIMARY KEY)").format(self._inbox)
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._remember_links([])
        super()._insert_events(curs, stored_events, **kwargs)
        inbox_ids = [(i,) for i in kwargs.get("inbox_ids") or ()]
        if inbox_ids:
            curs.executemany(
                SQL("INSERT INTO {} (event_id) VALUES (%s)").format(self._inbox), inbox_ids
            )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._remember_links([])
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            # The events table is locked in EXCLUSIVE mode by now, so the chain head cannot move.
            curs.execute(
                SQL("SELECT hash FROM {} ORDER BY notification_id DESC LIMIT 1").format(self._chain)
            )
            row = curs.fetchone()
            prev = bytes(row["hash"]) if row else GENESIS
            rows = []
            for nid, stored in zip(ids, stored_events, strict=True):
                prev = link(prev, nid, stored)
                rows.append((nid, prev))
            curs.executemany(SQL("INSERT INTO {} VALUES (%s, %s)").format(self._chain), rows)
            self._remember_links(rows)
        return ids

    def scan(self, start: int, limit: int) -> list[Row]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT e.notification_id, replace(e.originator_id::text, '-', '') AS oid, "
                    "e.originator_version, e.topic, e.state, h.hash FROM {} e LEFT JOIN {} h "
                    "ON h.notification_id = e.notification_id WHERE e.notification_id >= %s "
                    "ORDER BY e.notification_id LIMIT %s"
                ).format(
                    SQL("{}.{}").format(
                        Identifier(self.datastore.schema), Identifier(self.events_table_name)
                    ),
                    self._chain,
                ),
                (start, limit),
            )
            return [
                (
                    r["notification_id"],
                    r["oid"],
                    r["originator_version"],
                    r["topic"],
                    bytes(r["state"]),
                    bytes(r["hash"]) if r["hash"] is not None else None,
                )
                for r in curs.fetchall()
            ]

    def select_hashes(self, start: int, stop: int) -> dict[int, bytes]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, hash FROM {} "
                    "WHERE notification_id >= %s AND notification_id <= %s"
                ).format(self._chain),
                (start, stop),
            )
            return {row["notification_id"]: bytes(row["hash"]) for row in curs.fetchall()}

    def has_inbox_id(self, event_id: str) -> bool:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT 1 AS one FROM {} WHERE event_id = %s").format(self._inbox), (event_id,)
            )
            return curs.fetchone() is not None

    def existing(self, ids: Sequence[UUID]) -> set[UUID]:
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT DISTINCT originator_id FROM {} WHERE originator_id = ANY(%s)").format(
                    table
                ),
                (list(ids),),
            )
            return {UUID(str(row["originator_id"])) for row in curs.fetchall()}

    def head(self) -> tuple[int, bytes]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, hash FROM {} ORDER BY notification_id DESC LIMIT 1"
                ).format(self._chain)
            )
            row = curs.fetchone()
            return (row["notification_id"], bytes(row["hash"])) if row else (0, GENESIS)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of walking a store's chain. `broken_at` is the first notification id that fails."""

    checked: int
    head_id: int
    head_hash: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(recorder: ChainedRecorder, batch: int = 5000, progress: Any = None) -> VerifyResult:
    """Recompute the chain from the first event; name the first position whose hash does not match.

    `progress`, when given, is called with the number of events checked so far after each batch.
    """
    prev = GENESIS
    checked = 0
    last_id = 0
    sha256 = hashlib.sha256
    start = 1
    while rows := recorder.scan(start, batch):
        for nid, oid, version, topic, state, actual in rows:
            expected = sha256(prev + canonical_bytes(nid, oid, version, topic, state)).digest()
            if actual is None:
                return VerifyResult(checked, last_id, prev.hex(), nid, "no chain entry recorded")
            if actual != expected:
                return VerifyResult(
                    checked, last_id, prev.hex(), nid, "hash does not match the stored event"
                )
            prev = actual
            last_id = nid
            checked += 1
        start = rows[-1][0] + 1
        if progress is not None:
            progress(checked)
    head_id, _ = recorder.head()
    if head_id != last_id:
        return VerifyResult(
            checked, last_id, prev.hex(), head_id, "chain entry without a stored event (deleted?)"
        )
    return VerifyResult(checked, last_id, prev.hex())

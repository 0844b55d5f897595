"""Read models in a database (SQLite by default, PostgreSQL by URL): projections that resume from
the offsets they committed with their rows, one writer per deployment, readers anywhere."""

from .changes import Changes
from .database import Reader, aware, is_sqlite, open_engine, postgres_engine, sqlite_engine
from .models import ReadModels, WriterLock
from .projector import Projector, SqlProjection, bookkeeping, rm_offsets, rm_projections, rm_seen
from .sql import executemany, upsert

__all__ = [
    "Changes",
    "Projector",
    "ReadModels",
    "Reader",
    "SqlProjection",
    "WriterLock",
    "aware",
    "bookkeeping",
    "executemany",
    "is_sqlite",
    "open_engine",
    "postgres_engine",
    "rm_offsets",
    "rm_projections",
    "rm_seen",
    "sqlite_engine",
    "upsert",
]

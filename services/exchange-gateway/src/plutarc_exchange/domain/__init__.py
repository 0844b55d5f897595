"""The exchange gateway's aggregates, one per file, and their errors."""

from . import errors
from .account import Book, BotAccount, OpenOrder
from .connection import Connection
from .keyring import KEYRING_ID, KeyRing

STREAM_TYPES = [Connection, BotAccount, KeyRing]

__all__ = [
    "KEYRING_ID",
    "STREAM_TYPES",
    "Book",
    "BotAccount",
    "Connection",
    "KeyRing",
    "OpenOrder",
    "errors",
]

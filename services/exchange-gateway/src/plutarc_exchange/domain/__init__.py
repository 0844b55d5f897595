"""The exchange gateway's aggregates, one per file, and their errors."""

from . import errors
from .account import Book, BotAccount, OpenOrder
from .connection import Connection

STREAM_TYPES = [Connection, BotAccount]

__all__ = ["STREAM_TYPES", "Book", "BotAccount", "Connection", "OpenOrder", "errors"]

"""The bots service's aggregates, one per file, and their errors."""

from . import errors
from .bot import Bot, changed_fields
from .ids import parse_id
from .strategy import Strategy

STREAM_TYPES = [Strategy, Bot]

__all__ = ["STREAM_TYPES", "Bot", "Strategy", "changed_fields", "errors", "parse_id"]

"""The periods support runs on: when a silent ticket is warned and closed, how long a reply
reopens a ticket (after that it opens a follow-up). Settings choose them; see docs/support.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Periods:
    warn_after: timedelta = timedelta(days=6)
    """Silence (no public message) while waiting on the user before they are warned."""
    close_after: timedelta = timedelta(days=7)
    """Silence after which a warned ticket closes."""
    reopen_within: timedelta = timedelta(days=14)
    """A user's reply this soon after a ticket was resolved or auto-closed reopens it."""

    def __post_init__(self) -> None:
        if not timedelta(0) < self.warn_after < self.close_after:
            raise ValueError(
                f"the warning ({self.warn_after}) must come after 0 and before the close "
                f"({self.close_after})"
            )
        if self.reopen_within < timedelta(0):
            raise ValueError("reopen_within must not be negative")

    @property
    def notice(self) -> timedelta:
        """The least time between a warning and the close it announces."""
        return self.close_after - self.warn_after

"""The bots service's domain errors. Each code is stable: it travels in rejection replies and HTTP
problems, with ``field`` naming the input at fault (``sessions.windows[1].end``); each base class
(Invalid, ...) is the rejection's kind."""

from __future__ import annotations

from plutarc_runtime.domain import Invalid


class UnknownTimeZone(Invalid):
    """Not a zone of the IANA database as ``zoneinfo`` knows it (``localtime``, ``Factory`` and
    file paths are refused too)."""

    code = "bots.unknown_time_zone"


class WindowEndsBeforeStart(Invalid):
    """A window's end at or before its start, without ``overnight``."""

    code = "bots.window_ends_before_start"


class WindowNotOvernight(Invalid):
    """``overnight`` on a window whose end is after its start: the same day or the next one?"""

    code = "bots.window_not_overnight"


class WindowsOverlap(Invalid):
    """Two windows (or one window listing a day twice) share some local wall time on some day."""

    code = "bots.windows_overlap"


class NoWindows(Invalid):
    """Not ``always_on`` and no window: the bot could never trade."""

    code = "bots.no_windows"


class WindowsWithAlwaysOn(Invalid):
    """``always_on`` with windows: one of the two is a mistake."""

    code = "bots.windows_with_always_on"

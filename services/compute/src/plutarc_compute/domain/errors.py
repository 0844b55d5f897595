"""The compute service's domain errors; each code is stable (rejection replies, HTTP problems)."""

from __future__ import annotations

from plutarc_runtime.domain import Conflict, Invalid, NotFound


class InvalidInput(Invalid):
    code = "compute.invalid_input"


class HostNotFound(NotFound):
    code = "compute.host_not_found"


class HostReleased(Conflict):
    """The bot was deleted: its host and address are gone for good."""

    code = "compute.host_released"

"""Why a command changed nothing: the kinds of refusal, and the exceptions that carry them.

A domain error's base class is its kind (``NotFound``, ``Forbidden``, ``Conflict``, ``Invalid``,
``Unavailable``); the kind travels in ``system.command_rejected`` beside the stable ``code``, so
the API maps kind to an HTTP status once, for every service, and never guesses from the code.
"""

from __future__ import annotations

from typing import ClassVar, Final, Literal, get_args

RejectionKind = Literal["not_found", "forbidden", "conflict", "invalid", "unavailable", "failed"]
KINDS: Final = frozenset(get_args(RejectionKind))


class DomainError(Exception):
    """A rule refused a change. ``code`` is stable and travels in rejection replies."""

    kind: ClassVar[RejectionKind] = "invalid"
    code: str = "domain.rejected"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.field = field


class NotFound(DomainError):
    """It does not exist, or the caller may not know that it does (a workspace they are not in)."""

    kind = "not_found"
    code = "domain.not_found"


class Forbidden(DomainError):
    kind = "forbidden"
    code = "domain.forbidden"


class Conflict(DomainError):
    """The request is well formed but the state forbids it (already done, last owner, expired)."""

    kind = "conflict"
    code = "domain.conflict"


class Invalid(DomainError):
    kind = "invalid"
    code = "domain.invalid"


class Unavailable(DomainError):
    """A dependency could not answer; the same request may succeed later."""

    kind = "unavailable"
    code = "domain.unavailable"


# Replies written before the kind existed (CommandRejected v1) carry only a code. The upcaster
# derives their kind from the codes that existed then; nothing new is ever added here.
_LEGACY_NOT_FOUND_SUFFIX = "not_found"
_LEGACY_FORBIDDEN = frozenset(
    {
        "forbidden",
        "role_escalation",
        "owner_only",
        "self_role_change",
        "token_escalation",
        "invitation_mismatch",
    }
)
_LEGACY_CONFLICT = frozenset(
    {
        "email_taken",
        "last_owner",
        "already_member",
        "already_invited",
        "invitation_expired",
        "invitation_revoked",
        "invitation_used",
        "workspace_archived",
        "personal_workspace",
        "token_revoked",
        "token_expired",
        "conflict",
        "user_exists",
        "workspace_exists",
        "token_exists",
    }
)


def legacy_kind(code: str) -> RejectionKind:
    """The kind of a v1 rejection, from the code alone (only for replies written before v2)."""
    if code == "command.failed":
        return "failed"
    suffix = code.rsplit(".", 1)[-1]
    if suffix.endswith(_LEGACY_NOT_FOUND_SUFFIX):
        return "not_found"
    if suffix in _LEGACY_FORBIDDEN:
        return "forbidden"
    if suffix in _LEGACY_CONFLICT:
        return "conflict"
    return "invalid"

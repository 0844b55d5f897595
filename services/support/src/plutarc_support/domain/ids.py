"""Stream ids: tickets by their own UUID; notes, operators and follow-ups derived by name."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from plutarc_runtime.text import codepoint, first_unsafe

from . import errors

SUPPORT_NS = uuid5(NAMESPACE_URL, "https://plutarc.dev/ns/support")


def parse_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise errors.InvalidInput(
            f"`{field}` must be a UUID", field=field, code="support.invalid_id"
        ) from None


def notes_id(ticket_id: str) -> UUID:
    """The stream of a ticket's internal notes: apart from the ticket, so no user-side fold of the
    ticket's stream ever meets a note."""
    return uuid5(SUPPORT_NS, f"notes:{ticket_id}")


def operator_id(user_id: str) -> UUID:
    return uuid5(SUPPORT_NS, f"operator:{user_id}")


def follow_up_id(ticket_id: str, message_id: str) -> str:
    """The follow-up a reply opens: derived, so the same reply sent again opens the same one."""
    return str(uuid5(SUPPORT_NS, f"follow-up:{ticket_id}:{message_id}"))


def check_text(value: str, field: str, *, allow_newlines: bool) -> str:
    """Text others will read: not blank, and no control or format characters (which could rewrite
    a terminal or reorder text), except line breaks and tabs in a body."""
    if not value.strip():
        raise errors.InvalidInput(
            f"`{field}` must not be blank", field=field, code=f"support.empty_{field}"
        )
    checked = (
        value.replace("\n", " ").replace("\r", " ").replace("\t", " ") if allow_newlines else value
    )
    found = first_unsafe(checked)
    if found is not None:
        raise errors.InvalidInput(
            f"`{field}` must not contain control or format characters (it holds {codepoint(found)})",
            field=field,
            code="support.invalid_text",
        )
    return value

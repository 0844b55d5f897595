"""Internal notes are the operators' alone: written by operators only, kept in a stream apart from
the ticket, published only on the private notes topic, redacted in audit exports."""

from __future__ import annotations

from uuid import UUID, uuid4

from plutarc_contracts import support as s
from plutarc_contracts.audit import REDACTED
from plutarc_runtime.audit import AuditReader
from plutarc_support.domain import Ticket

from .conftest import ALICE, BOB, OP, Support

SECRET = "refund approved off the books: do not tell the customer"


def note(support: Support, ticket_id: str, body: str = SECRET) -> s.AddInternalNote:
    return s.AddInternalNote(
        workspace_id=support.ws, ticket_id=ticket_id, note_id=str(uuid4()), body=body
    )


def busy_ticket(support: Support) -> str:
    """A ticket with a bit of everything around two internal notes."""
    t = support.open()
    support.ok(OP, note(support, t))
    support.post(OP, t, "We are on it", side="operator")
    support.ok(OP, s.AssignTicket(workspace_id=support.ws, ticket_id=t, operator_id="op"))
    support.ok(OP, note(support, t, SECRET + " (2)"))
    support.post(ALICE, t, "Thanks")
    support.status(ALICE, t, "resolved")
    return t


def test_only_operators_write_notes(support: Support) -> None:
    t = support.open()
    support.rejected(ALICE, note(support, t), "support.not_an_operator")  # the owner
    support.rejected(BOB, note(support, t), "support.not_an_operator")
    support.rejected("token:abc", note(support, t), "access.unknown_actor")
    support.rejected("system:support", note(support, t), "support.not_an_operator")
    elsewhere = s.AddInternalNote(
        workspace_id=support.other, ticket_id=t, note_id=str(uuid4()), body="x"
    )
    support.rejected(OP, elsewhere, "support.ticket_not_found")
    accepted = support.ok(OP, note(support, t))
    assert accepted.result["note_id"]


def test_notes_reach_no_user_side_topic(support: Support) -> None:
    """Every stored event goes where the contracts route it: the notes to the private topic, and
    not one byte of a note to any topic a user-side reader may read."""
    busy_ticket(support)
    store = support.store
    user_side = []
    for n in store.notifications(1, 100_000):
        topic = support.spec.route(n.topic)
        if n.topic == "support.internal_note_added":
            assert topic == s.NOTES_TOPIC
            continue
        if topic is None:
            continue  # intents stay in the store
        declared = support.spec.declared_topics().registry().get(topic)
        assert not declared.private, f"{n.topic} routed to private {topic}"
        user_side.append(n.state)
    assert len(user_side) > 10
    assert not any(b"refund approved" in state for state in user_side)
    assert len(support.events("support.internal_note_added")) == 2


def test_the_ticket_never_folds_a_note(support: Support) -> None:
    t = busy_ticket(support)
    ticket = support.store.get(Ticket, UUID(t))
    assert SECRET not in repr(ticket.snapshot_state())
    stream = [e for e in support.events("support.") if e.stream_id == t]
    assert "support.internal_note_added" not in {e.type for e in stream}


def test_an_audit_export_redacts_the_note_text(support: Support) -> None:
    busy_ticket(support)
    entries = list(AuditReader(support.store).entries(workspace_id=support.ws))
    notes = [e for e in entries if e.action == "support.internal_note_added"]
    assert len(notes) == 2 and all(e.after["body"] == REDACTED for e in notes)
    assert not any("refund approved" in repr(e) for e in entries)

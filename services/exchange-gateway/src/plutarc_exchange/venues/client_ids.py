"""Client order ids derived from command ids, in each venue's format.

The command id is a UUID and the idempotency key of an order. Its client order id is a pure
function of it and the venue's rule in the capability table, so every attempt of one command (a
retry, a restarted gateway) sends the same id, and the venue, or our lookup, recognises it:

- ``format: hex``: the UUID's 32 lowercase hex digits, after the rule's ``prefix`` ("pl" where
  the length allows it, so a person spots plutarc's orders; none on OKX, 32 characters at most,
  letters and digits only, nor on Kraken spot, which takes a UUID with or without hyphens);
- ``format: uuid``: the canonical 36-character UUID (Coinbase).

No bits are dropped, so the id maps back to the command id (``command_id_from``).
"""

from __future__ import annotations

import re
import uuid

from plutarc_exchange.venues.capabilities import ClientOrderIdRule


class ClientOrderIdError(ValueError):
    pass


def derive_client_order_id(command_id: str, rule: ClientOrderIdRule) -> str:
    try:
        parsed = uuid.UUID(command_id)
    except ValueError:
        raise ClientOrderIdError(f"command id {command_id!r} is not a UUID") from None
    body = parsed.hex if rule.format == "hex" else str(parsed)
    client_id = rule.prefix + body
    if len(client_id) > rule.max_length or not re.fullmatch(rule.pattern, client_id):
        raise ClientOrderIdError(
            f"derived client id {client_id!r} breaks the venue's rule "
            f"(at most {rule.max_length} characters matching {rule.pattern})"
        )
    return client_id


def command_id_from(client_order_id: str, rule: ClientOrderIdRule) -> str | None:
    """The command id a client order id was derived from, or None for an id plutarc did not make
    (an order placed by hand on the venue)."""
    if not client_order_id.startswith(rule.prefix):
        return None
    body = client_order_id[len(rule.prefix) :]
    expected = 32 if rule.format == "hex" else 36
    if len(body) != expected:
        return None
    try:
        return str(uuid.UUID(body))
    except ValueError:
        return None

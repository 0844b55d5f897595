"""Input rules shared by identity's aggregates: ids, email addresses and names."""

from __future__ import annotations

import re
from uuid import UUID

from plutarc_runtime.text import codepoint, first_unsafe

from . import errors

# Deliberately conservative: one @, a dot in the domain, no spaces or control characters.
EMAIL_RE = re.compile(
    r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def normalise_email(email: str) -> str:
    email = email.strip()
    local, _, domain = email.rpartition("@")
    normalised = f"{local}@{domain.lower()}".lower()
    if not EMAIL_RE.match(normalised) or len(normalised) > 254:
        raise errors.InvalidInput(
            f"`{email}` is not an email address", field="email", code="identity.invalid_email"
        )
    return normalised


def parse_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise errors.InvalidInput(
            f"`{field}` must be a UUID", field=field, code="identity.invalid_id"
        ) from None


def check_name(value: str, field: str) -> str:
    """A name others will see (display, workspace, token name): no control or format characters,
    which could rewrite a terminal or reorder text (plutarc_runtime.text). The gateway refuses them
    too; this holds whoever sends the command."""
    found = first_unsafe(value)
    if found is not None:
        raise errors.InvalidInput(
            f"`{field}` must not contain control or format characters (it holds {codepoint(found)})",
            field=field,
            code="identity.invalid_name",
        )
    return value

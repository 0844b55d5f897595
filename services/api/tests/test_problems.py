"""Service rejection codes map to HTTP statuses: the caller's faults are 4xx, a service's crash is not."""

from __future__ import annotations

import pytest
from plutarc_api.problems import status_for


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("identity.workspace_not_found", 404),
        ("identity.role_escalation", 403),
        ("identity.last_owner", 409),
        ("identity.invalid_email", 422),
        ("contract.missing_field", 422),
        ("command.failed", 500),
    ],
)
def test_status_for_code(code: str, status: int) -> None:
    assert status_for(code) == status

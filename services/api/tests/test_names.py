"""Names others will see (display, workspace and token names) refuse control and format
characters at the edge: 422 `request.invalid` naming the field. Identity refuses them too
(services/identity/tests/test_users_and_workspaces.py)."""

from __future__ import annotations

import httpx
import pytest
from plutarc_identity.api.schemas import OrganisationIn, RegisterIn, RenameIn, TokenIn
from pydantic import BaseModel, ValidationError

DANGEROUS = [
    "\x1b]0;pwned\x07",  # ESC: a terminal title (OSC)
    "a\x00b",  # NUL
    "re\rwrite",  # CR
    "two\nlines",
    "tab\tbed",
    "del\x7f",
    "c1\x9b31m",  # CSI as a C1 control
    "\u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE
    "\u202aembedded",
    "iso\u2066late\u2069",
    "zero\u200bwidth",
    "\ufeffbom",
    "tag\U000e0041",
]


async def test_a_display_name_with_a_control_character_is_422_naming_it(
    http: httpx.AsyncClient,
) -> None:
    for bad in DANGEROUS:
        r = await http.post(
            "/v1/auth/register",
            json={
                "email": "a@example.com",
                "password": "correct horse battery",
                "display_name": bad,
            },
        )
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] == "request.invalid"
        assert [e["field"] for e in r.json()["errors"]] == ["display_name"]
        assert "control or format characters" in r.json()["errors"][0]["message"]


@pytest.mark.parametrize("bad", DANGEROUS)
@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (OrganisationIn, {}),
        (RenameIn, {}),
        (TokenIn, {"permissions": ["workspace:read"]}),
    ],
)
def test_workspace_and_token_names_refuse_them_too(
    model: type[BaseModel], fields: dict[str, object], bad: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"name": bad, **fields})
    assert [e["loc"] for e in refused.value.errors()] == [("name",)]


def test_names_in_any_script_with_emoji_and_joiners_pass() -> None:
    for name in ["Zoë's Desk", "東京デスク", "👩\u200d💻 team", "Ünïcode — ok"]:
        assert OrganisationIn(name=name).name == name
    padded = RegisterIn.model_validate(
        {"email": "a@example.com", "password": "correct horse battery", "display_name": " A\n"}
    )
    assert padded.display_name == "A"  # surrounding whitespace is trimmed, as before

"""web/openapi.json is the document the dashboard's typed client is generated from: when a route
changes, this fails until `make openapi` rewrites it (and the client is type-checked against it)."""

from __future__ import annotations

from plutarc_api.openapi_doc import committed_path, document_text


def test_the_committed_openapi_document_is_current() -> None:
    path = committed_path()
    assert path.is_file(), f"{path} is missing: run `make openapi`"
    assert path.read_text(encoding="utf-8") == document_text(), (
        f"{path} is out of date with the API's routes: run `make openapi` and commit it"
    )

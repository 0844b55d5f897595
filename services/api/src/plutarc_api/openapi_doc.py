"""The API's OpenAPI document as the dashboard's typed client is generated from it: one committed
file (web/openapi.json), rewritten by `make openapi`, checked by a test so that a changed route
fails the build until the client is regenerated against it.

Usage: python -m plutarc_api.openapi_doc [PATH]   (default: the checkout's web/openapi.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .app import create_app
from .dashboard import default_dist


def committed_path() -> Path:
    return default_dist().parent / "openapi.json"


def document_text() -> str:
    """The document, with stable key order and a final newline."""
    return json.dumps(create_app().openapi(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else committed_path()
    text = document_text()
    if target.exists() and target.read_text(encoding="utf-8") == text:
        print(f"{target}: up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"{target}: written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

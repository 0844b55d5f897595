"""`plutarc-identity`: run the identity service with settings from PLUTARC_* environment variables."""

from __future__ import annotations

from plutarc_runtime.service import run_service

from .service import identity_spec


def main() -> None:
    run_service(identity_spec())


if __name__ == "__main__":
    main()

"""`plutarc-identity`: run the identity service with settings from PLUTARC_* environment variables."""

from __future__ import annotations

from plutarc_access import engine_for
from plutarc_runtime.service import run_service
from plutarc_runtime.settings import RuntimeSettings

from .service import identity_spec


def main() -> None:
    settings = RuntimeSettings()
    run_service(identity_spec(engine_for(settings.opa_url)), settings)


if __name__ == "__main__":
    main()

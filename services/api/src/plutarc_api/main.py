"""`plutarc-api`: serve the gateway API with settings from PLUTARC_* environment variables."""

from __future__ import annotations

import uvicorn
from plutarc_runtime.logs import configure_logging

from .app import create_app
from .settings import ApiSettings


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()

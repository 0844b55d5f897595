"""`plutarc-api`: serve the gateway API with settings from PLUTARC_* environment variables."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI
from plutarc_runtime.logs import configure_logging

from .app import create_app
from .settings import ApiSettings


def proxy_options(settings: ApiSettings) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For/-Proto: believed only from PLUTARC_TRUSTED_PROXIES.

    Wherever the API is served. uvicorn's own default trusts 127.0.0.1 (or $FORWARDED_ALLOW_IPS),
    which let any local client choose the address its rate limit is counted under."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def worker_app() -> FastAPI:
    """One worker's app (uvicorn's factory when PLUTARC_WORKERS > 1: each worker process builds
    its own, and they share the read models, the state and the limits through the database)."""
    settings = ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    return create_app(settings)


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    options: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        **proxy_options(settings),
    }
    if settings.workers > 1:
        uvicorn.run(
            "plutarc_api.main:worker_app", factory=True, workers=settings.workers, **options
        )
    else:
        uvicorn.run(create_app(settings), **options)


if __name__ == "__main__":
    main()

"""`plutarc-bots`: run the bots service with settings from PLUTARC_* environment variables."""

from __future__ import annotations

from plutarc_runtime.service import run_service

from .bootstrap import build
from .settings import BotsSettings


def main() -> None:
    settings = BotsSettings()
    run_service(build(settings), settings)


if __name__ == "__main__":
    main()

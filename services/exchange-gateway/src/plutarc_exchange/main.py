"""`plutarc-exchange-gateway`: run the exchange gateway with settings from PLUTARC_* variables."""

from __future__ import annotations

from plutarc_runtime.service import run_service

from .bootstrap import build
from .settings import ExchangeSettings


def main() -> None:
    settings = ExchangeSettings()
    run_service(build(settings), settings)


if __name__ == "__main__":
    main()

"""`plutarc-compute`: run the compute service with settings from PLUTARC_* environment variables."""

from __future__ import annotations

import sys

from plutarc_runtime.service import run_service

from .bootstrap import build, make_provider
from .providers.base import ProviderUnavailable
from .settings import ComputeSettings


def main() -> None:
    settings = ComputeSettings()
    try:
        provider = make_provider(settings)
    except ProviderUnavailable as exc:
        print(f"plutarc-compute: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    run_service(build(settings, provider=provider), settings)


if __name__ == "__main__":
    main()

"""Write the golden fixtures that are missing; never overwrite one.

    uv run python contracts/scripts/make_fixtures.py            # write missing fixtures
    uv run python contracts/scripts/make_fixtures.py --check    # exit 1 if any is missing

Review each new file before committing it: from then on it is the wire format that version must keep
decoding. ``--registry module:function`` points at another registry (e.g. a service's own types) and
``--root`` at another fixture directory.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from plutarc_contracts.fixtures import missing_fixtures, write_missing_fixtures
from plutarc_contracts.registry import Registry

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "fixtures"


def load_registry(spec: str) -> Registry:
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr or "default_registry")
    registry = factory() if callable(factory) else factory
    if not isinstance(registry, Registry):
        raise SystemExit(f"{spec} did not give a Registry")
    return registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--registry", default="plutarc_contracts.catalogue:default_registry")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--check", action="store_true", help="only report missing fixtures")
    args = parser.parse_args(argv)
    registry = load_registry(args.registry)
    if args.check:
        missing = missing_fixtures(registry, args.root)
        for name, version in missing:
            print(f"missing: {name} v{version}")
        return 1 if missing else 0
    for path in write_missing_fixtures(registry, args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

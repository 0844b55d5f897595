"""Write the files generated from the permission catalogue (plutarc_contracts.permissions).

    uv run python scripts/gen_policy_data.py          # rewrite them
    uv run python scripts/gen_policy_data.py --check  # exit 1 if any is stale (CI)

Outputs: deploy/policy/plutarc/data.json (what the Rego policy reads as data.plutarc.catalogue)
and docs/permissions.md (the permission x role table). The rendering lives in
plutarc_access.policy so the test suite can compare without running this script.
"""

from __future__ import annotations

import argparse
import sys

from plutarc_access.policy import REPO_ROOT, generated_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    stale = []
    for path, content in generated_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        stale.append(path.relative_to(REPO_ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    verb = "stale" if args.check else "written"
    for rel in stale:
        print(f"{verb}: {rel}")
    if not stale:
        print("generated files are up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

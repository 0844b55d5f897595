"""`python -m plutarc_api.catchup`: the API's read models brought to the end of their topics in a
process of their own, which then exits (plutarc_runtime.readmodels.catchup says why).

The writer starts it when it finds itself at least `PLUTARC_CATCH_UP_IN_CHILD` events behind, and
sends on stdin, as JSON, what differs from the environment's settings: the broker, the database
URL, the data directory and the API modules. It spreads the projections over up to
`PLUTARC_CATCH_UP_PROCESSES` processes (forked, one Kafka reader each). Exit 0 once all are caught
up; anything else, and the writer catches up itself from what was committed.
"""

from __future__ import annotations

import json
import logging
import sys

from plutarc_contracts import default_registry
from plutarc_runtime.logs import configure_logging
from plutarc_runtime.readmodels import open_engine
from plutarc_runtime.readmodels.catchup import catch_up_split

from .module import load_modules
from .runtime import api_projections
from .settings import ApiSettings

log = logging.getLogger(__name__)


def main() -> int:
    try:
        orders = json.loads(sys.stdin.read())
        settings = ApiSettings(**orders)
    except (ValueError, TypeError) as exc:
        print(f"plutarc_api.catchup: bad orders on stdin: {exc}", file=sys.stderr)
        return 2
    configure_logging("api-catchup", settings.log_level, settings.log_json)
    registry = default_registry()
    modules = load_modules(settings.api_modules or None)
    applied = catch_up_split(
        lambda: open_engine(settings.database_url, settings.data_dir / "api-readmodels.sqlite"),
        api_projections(modules, registry),
        bootstrap=settings.kafka_bootstrap,
        registry=registry,
        processes=settings.catch_up_processes,
    )
    log.info("read models caught up", extra={"applied": applied})
    return 0


if __name__ == "__main__":
    sys.exit(main())

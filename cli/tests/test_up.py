"""`plutarc up` tells where each part of deploy/Procfile listens, the API's ops port included."""

from __future__ import annotations

from plutarc_cli.up import listening, procfile_entries
from plutarc_localkafka import launcher


def test_the_table_shows_the_api_and_where_its_metrics_are() -> None:
    rows = dict(listening(procfile_entries(launcher.repo_root() / "deploy" / "Procfile")))
    assert rows["api"] == "http://127.0.0.1:8000"
    assert rows["api ops"] == "http://127.0.0.1:8100/metrics"
    assert rows["identity"] == "http://127.0.0.1:8101"

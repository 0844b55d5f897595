"""The identity process is killed with SIGKILL between recording an intent and carrying it out:
after a restart it sends the invitation email once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from plutarc_contracts import CommandEnvelope, default_registry
from plutarc_contracts import identity as c
from plutarc_runtime.bus import ensure_topics
from plutarc_testkit.smtp import SmtpServer
from plutarc_testkit.waiting import until

from .conftest import PASSWORD_HASH, token_hash

sys.path.insert(0, str(Path(__file__).parents[3] / "libs" / "runtime" / "tests"))
from kafka_helpers import produce

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
REGISTRY = default_registry()


def command(actor: str, payload: c.Payload) -> bytes:
    name, version = REGISTRY.type_name_of(type(payload))
    cid = str(uuid4())
    return REGISTRY.encode_command(
        CommandEnvelope(
            command_id=cid,
            type=name,
            schema_version=version,
            issued_at=datetime.now(UTC),
            actor=actor,
            workspace_id=getattr(payload, "workspace_id", None),
            correlation_id=cid,
            causation_id=None,
            payload=payload,
        )
    )


def stored(data_dir: Path, type_name: str) -> int:
    path = data_dir / "identity.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        try:
            return int(
                db.execute(
                    "SELECT count(*) FROM stored_events WHERE topic = ?", (type_name,)
                ).fetchone()[0]
            )
        except sqlite3.OperationalError:  # the table is not there yet
            return 0


def start_identity(data_dir: Path, bootstrap: str, smtp_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PLUTARC_KAFKA_BOOTSTRAP": bootstrap,
        "PLUTARC_DATA_DIR": str(data_dir),
        "PLUTARC_SMTP_HOST": "127.0.0.1",
        "PLUTARC_SMTP_PORT": str(smtp_port),
        "PLUTARC_HTTP_PORT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "plutarc_identity.main"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_killed_after_recording_before_sending_sends_once_after_restart(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    await ensure_topics(kafka_bootstrap, list(c.identity_topics().all()))
    smtp = SmtpServer()  # not listening yet: every attempt fails, the intent stays pending
    user_id, personal, ws = str(uuid4()), str(uuid4()), str(uuid4())
    email = f"invitee-{uuid4().hex[:8]}@example.com"
    actor = f"user:{user_id}"
    await produce(
        kafka_bootstrap,
        "identity.commands.v1",
        [
            command(
                "anonymous",
                c.RegisterUser(
                    user_id=user_id,
                    personal_workspace_id=personal,
                    email=f"owner-{uuid4().hex[:8]}@example.com",
                    display_name="Owner",
                    password_hash=PASSWORD_HASH,
                ),
            ),
            command(actor, c.CreateOrganisation(workspace_id=ws, name="Desk")),
            command(
                actor,
                c.InviteMember(
                    workspace_id=ws,
                    invitation_id=str(uuid4()),
                    email=email,
                    role="trader",
                    token_hash=token_hash("s"),
                    accept_url="https://plutarc.example/invitations/accept#token=pli_s",
                ),
            ),
        ],
        key=ws.encode(),
    )
    data_dir = tmp_path / "data"
    first = start_identity(data_dir, kafka_bootstrap, smtp.port)
    try:
        await until(
            lambda: (
                stored(data_dir, "system.intent_attempt_failed") >= 1 or first.poll() is not None
            ),
            timeout=90,
            what="the intent recorded and one attempt made",
        )
        assert first.poll() is None, "identity exited early"
        assert stored(data_dir, "system.intent_recorded") == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert stored(data_dir, "system.intent_completed") == 0

    smtp.start()
    second = start_identity(data_dir, kafka_bootstrap, smtp.port)
    try:
        await until(
            lambda: stored(data_dir, "system.intent_completed") == 1, timeout=90, what="sent"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
        smtp.stop()
    assert len(smtp.inbox.to(email)) == 1
    assert stored(data_dir, "system.intent_recorded") == 1

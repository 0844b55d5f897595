"""Venue keys at rest: envelope encryption, and crypto-shredding when a connection is removed.

Each connection gets its own random data key (DEK); its keys are encrypted with the DEK
(XSalsa20-Poly1305, libsodium's secret box) and the DEK is stored only wrapped by the
key-encryption key (KEK) from settings. Removing a connection deletes its wrapped DEK (and its
ciphertext): whatever copy of the ciphertext survives in a backup can never be read again. SQLite
runs with ``secure_delete`` so the deleted rows are overwritten in the file.

The vault is the gateway's own table (SQLAlchemy: SQLite by default, PostgreSQL when the service
runs on it); it is never published and nothing outside the gateway reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import sqlalchemy as sa
from nacl.secret import SecretBox
from nacl.utils import random

from .sealing import Credentials, b64, unb64

_meta = sa.MetaData()
KEYS = sa.Table(
    "vault_keys",
    _meta,
    sa.Column("connection_id", sa.String(64), primary_key=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
)
SECRETS = sa.Table(
    "vault_secrets",
    _meta,
    sa.Column("connection_id", sa.String(64), primary_key=True),
    sa.Column("environment", sa.String(16), primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
)


def load_kek(text: str | None, path: Path) -> bytes:
    """The KEK from settings (URL-safe base64 of 32 bytes), else from a file readable by its owner
    only, created on first use (the embedded default)."""
    if text:
        kek = unb64(text.strip())
    elif path.exists():
        kek = unb64(path.read_text().strip())
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        kek = random(SecretBox.KEY_SIZE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(b64(kek))
    if len(kek) != SecretBox.KEY_SIZE:
        raise ValueError(f"the key-encryption key must be {SecretBox.KEY_SIZE} bytes")
    return kek


class Vault:
    def __init__(self, url: str, kek: bytes) -> None:
        self._kek = SecretBox(kek)
        self.engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        _meta.create_all(self.engine)

    def store(self, connection_id: str, credentials: dict[str, Credentials]) -> None:
        dek = random(SecretBox.KEY_SIZE)
        box = SecretBox(dek)
        with self.engine.begin() as db:
            db.execute(SECRETS.delete().where(SECRETS.c.connection_id == connection_id))
            db.execute(KEYS.delete().where(KEYS.c.connection_id == connection_id))
            db.execute(
                KEYS.insert().values(
                    connection_id=connection_id, wrapped_key=self._kek.encrypt(dek)
                )
            )
            for environment, keys in sorted(credentials.items()):
                db.execute(
                    SECRETS.insert().values(
                        connection_id=connection_id,
                        environment=environment,
                        ciphertext=box.encrypt(msgspec.json.encode(keys)),
                    )
                )

    def read(self, connection_id: str, environment: str) -> Credentials | None:
        with self.engine.connect() as db:
            wrapped = db.scalar(
                sa.select(KEYS.c.wrapped_key).where(KEYS.c.connection_id == connection_id)
            )
            sealed = db.scalar(
                sa.select(SECRETS.c.ciphertext).where(
                    SECRETS.c.connection_id == connection_id,
                    SECRETS.c.environment == environment,
                )
            )
        if wrapped is None or sealed is None:
            return None
        dek = self._kek.decrypt(wrapped)
        return msgspec.json.decode(SecretBox(dek).decrypt(sealed), type=Credentials)

    def shred(self, connection_id: str) -> None:
        """Destroy the connection's data key and ciphertext."""
        with self.engine.begin() as db:
            db.execute(KEYS.delete().where(KEYS.c.connection_id == connection_id))
            db.execute(SECRETS.delete().where(SECRETS.c.connection_id == connection_id))

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()

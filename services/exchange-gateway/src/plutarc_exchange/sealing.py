"""Sealing venue keys for the gateway, and opening them there.

Keys are sealed with a libsodium sealed box (X25519 and XSalsa20-Poly1305, anonymous sender) to
the gateway's public key before they leave the caller (the API, or the CLI itself), so that only
the gateway, holding the private key, can read them: no topic, log or store on the way holds them
in clear. The gateway publishes its public key as ``exchange.sealing_key_published``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Annotated

import msgspec
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .domain import errors

Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class Credentials(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A venue's API keys as ccxt names them (`password`: OKX's and KuCoin's passphrase)."""

    api_key: Secret
    secret: Secret
    password: Secret | None = None
    uid: Secret | None = None

    def fingerprint(self) -> str:
        """8 hex digits of the key's SHA-256: tells two keys apart without revealing either."""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:8]

    def for_ccxt(self) -> dict[str, str]:
        found = {"apiKey": self.api_key, "secret": self.secret}
        if self.password is not None:
            found["password"] = self.password
        if self.uid is not None:
            found["uid"] = self.uid
        return found

    def __repr__(self) -> str:
        return f"Credentials(fingerprint={self.fingerprint()})"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


def key_id_of(public_key: str) -> str:
    return "k-" + hashlib.sha256(unb64(public_key)).hexdigest()[:16]


def seal(public_key: str, credentials: Credentials) -> str:
    """What the API and the CLI send: the keys sealed to the gateway's public key."""
    box = SealedBox(PublicKey(unb64(public_key)))
    return b64(box.encrypt(msgspec.json.encode(credentials)))


class SealingKey:
    """The gateway's private key. `load_or_create` keeps it in a file readable by its owner only
    (the embedded default); deployments hand it in from a secret store (PLUTARC_EXCHANGE_SEALING_KEY)."""

    def __init__(self, private: PrivateKey) -> None:
        self._private = private
        self.public_key = b64(bytes(private.public_key))
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def from_text(cls, text: str) -> SealingKey:
        return cls(PrivateKey(unb64(text.strip())))

    @classmethod
    def load_or_create(cls, path: Path) -> SealingKey:
        if path.exists():
            return cls.from_text(path.read_text())
        path.parent.mkdir(parents=True, exist_ok=True)
        key = PrivateKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(b64(bytes(key)))
        return cls(key)

    def open(self, key_id: str, sealed: str) -> Credentials:
        if key_id != self.key_id:
            raise errors.UnknownSealingKey(
                f"sealed to key {key_id}; the gateway holds {self.key_id}", field="key_id"
            )
        try:
            opened = SealedBox(self._private).decrypt(unb64(sealed))
            return msgspec.json.decode(opened, type=Credentials)
        except (CryptoError, ValueError, msgspec.DecodeError) as exc:
            kind = "does not open" if isinstance(exc, CryptoError) else "is not a venue's keys"
            raise errors.SealedCredentialsInvalid(
                f"the sealed credentials {kind}", field="credentials"
            ) from None

    def __repr__(self) -> str:
        return f"SealingKey({self.key_id})"

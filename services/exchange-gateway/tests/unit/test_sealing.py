from __future__ import annotations

import stat
from pathlib import Path

import pytest
from plutarc_exchange.domain import errors
from plutarc_exchange.sealing import Credentials, SealingKey, seal
from plutarc_exchange.vault import Vault, load_kek

KEYS = Credentials(api_key="AKIA-very-secret-key", secret="s3cr3t-value-xyz")


def test_keys_sealed_to_the_gateway_open_only_there(tmp_path: Path) -> None:
    key = SealingKey.load_or_create(tmp_path / "sealing")
    sealed = seal(key.public_key, KEYS)
    assert "AKIA" not in sealed and "s3cr3t" not in sealed
    assert key.open(key.key_id, sealed) == KEYS
    other = SealingKey.load_or_create(tmp_path / "other")
    with pytest.raises(errors.SealedCredentialsInvalid):
        other.open(other.key_id, sealed)
    with pytest.raises(errors.UnknownSealingKey):
        key.open(other.key_id, sealed)


def test_the_private_key_file_is_the_owners_alone_and_survives_a_restart(tmp_path: Path) -> None:
    key = SealingKey.load_or_create(tmp_path / "sealing")
    mode = stat.S_IMODE((tmp_path / "sealing").stat().st_mode)
    assert mode == 0o600
    again = SealingKey.load_or_create(tmp_path / "sealing")
    assert again.key_id == key.key_id and again.public_key == key.public_key
    assert "AKIA" not in repr(KEYS) and KEYS.fingerprint() in repr(KEYS)


def test_something_else_in_a_sealed_box_is_refused(tmp_path: Path) -> None:
    key = SealingKey.load_or_create(tmp_path / "sealing")
    with pytest.raises(errors.SealedCredentialsInvalid, match="does not open"):
        key.open(key.key_id, "bm90IGEgYm94")
    from nacl.public import PublicKey, SealedBox
    from plutarc_exchange.sealing import b64, unb64

    junk = b64(SealedBox(PublicKey(unb64(key.public_key))).encrypt(b'{"api_key": 1}'))
    with pytest.raises(errors.SealedCredentialsInvalid, match="not a venue's keys"):
        key.open(key.key_id, junk)


def test_the_vault_keeps_keys_encrypted_and_removal_shreds_them(tmp_path: Path) -> None:
    kek = load_kek(None, tmp_path / "kek")
    vault = Vault(f"sqlite:///{tmp_path / 'vault.db'}", kek)
    vault.store("c-1", {"testnet": KEYS})
    vault.store("c-2", {"live": KEYS})
    raw = (tmp_path / "vault.db").read_bytes()
    assert b"AKIA" not in raw and b"s3cr3t" not in raw
    assert vault.read("c-1", "testnet") == KEYS
    assert vault.read("c-1", "live") is None
    vault.shred("c-1")
    assert vault.read("c-1", "testnet") is None
    assert vault.read("c-2", "live") == KEYS
    vault.close()
    # a vault opened with another KEK cannot read what is left
    other = Vault(f"sqlite:///{tmp_path / 'vault.db'}", load_kek(None, tmp_path / "kek2"))
    from nacl.exceptions import CryptoError

    with pytest.raises(CryptoError):
        other.read("c-2", "live")
    other.close()


def test_a_kek_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        load_kek("c2hvcnQ=", tmp_path / "kek")

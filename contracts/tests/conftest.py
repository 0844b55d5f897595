"""Sample types that exercise the versioning machinery, kept out of the default registry.

``sample.account_opened`` has three versions (a rename plus a new field, then a field turned into a
list) so the tests cover a chain of upcasters, and ``sample.open_account`` shows the same for a
command. Their golden fixtures live in ``tests/fixtures/`` and were written once by
``write_missing_fixtures``, exactly like the real ones.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from plutarc_contracts import Payload, Registry, default_registry

TESTS_DIR = Path(__file__).resolve().parent
SAMPLE_FIXTURES = TESTS_DIR / "fixtures"
DEFAULT_FIXTURES = TESTS_DIR.parent / "fixtures"


class AccountOpenedV1(Payload, frozen=True, kw_only=True):
    account_id: str
    owner: str

    @classmethod
    def example(cls) -> AccountOpenedV1:
        return cls(account_id="acc-1", owner="user-7")


class AccountOpenedV2(Payload, frozen=True, kw_only=True):
    account_id: str
    owner_id: str
    currency: str = "USD"

    @classmethod
    def example(cls) -> AccountOpenedV2:
        return cls(account_id="acc-2", owner_id="user-7", currency="EUR")


class AccountOpenedV3(Payload, frozen=True, kw_only=True):
    account_id: str
    owner_id: str
    currencies: list[str]

    @classmethod
    def example(cls) -> AccountOpenedV3:
        return cls(account_id="acc-3", owner_id="user-7", currencies=["EUR", "USDT"])


def account_opened_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """`owner` was renamed `owner_id`; accounts opened before v2 were all in USD."""
    out = dict(data)
    out["owner_id"] = out.pop("owner")
    out["currency"] = "USD"
    return out


def account_opened_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["currencies"] = [out.pop("currency")]
    return out


class OpenAccountV1(Payload, frozen=True, kw_only=True):
    owner: str

    @classmethod
    def example(cls) -> OpenAccountV1:
        return cls(owner="user-7")


class OpenAccountV2(Payload, frozen=True, kw_only=True):
    owner_id: str
    currency: str

    @classmethod
    def example(cls) -> OpenAccountV2:
        return cls(owner_id="user-7", currency="EUR")


def open_account_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"owner_id": data["owner"], "currency": "USD"}


def build_sample_registry() -> Registry:
    registry = Registry()
    registry.register_event(
        "sample.account_opened",
        {1: AccountOpenedV1, 2: AccountOpenedV2, 3: AccountOpenedV3},
        {1: account_opened_v1_to_v2, 2: account_opened_v2_to_v3},
    )
    registry.register_command(
        "open_account", {1: OpenAccountV1, 2: OpenAccountV2}, {1: open_account_v1_to_v2}, "sample"
    )
    return registry.freeze()


@pytest.fixture(scope="session")
def sample_registry() -> Registry:
    """Only the sample types."""
    return build_sample_registry()


@pytest.fixture(scope="session")
def full_registry(sample_registry: Registry) -> Registry:
    """The default registry plus the sample types: every kind of type the codec must handle."""
    return default_registry().merge(sample_registry).freeze()


@pytest.fixture(scope="session")
def sample() -> SimpleNamespace:
    return SimpleNamespace(
        AccountOpenedV1=AccountOpenedV1,
        AccountOpenedV2=AccountOpenedV2,
        AccountOpenedV3=AccountOpenedV3,
        OpenAccountV1=OpenAccountV1,
        OpenAccountV2=OpenAccountV2,
    )

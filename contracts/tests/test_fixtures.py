"""Golden fixtures: present for every (type, version), and decoding forever."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import pytest
from msgspec import Meta
from plutarc_contracts import CommandEnvelope, Envelope, Payload, Registry, default_registry
from plutarc_contracts.fixtures import (
    ExampleError,
    FixtureFile,
    example_payload,
    fixture_path,
    iter_fixtures,
    missing_fixtures,
    write_missing_fixtures,
)

TESTS_DIR = Path(__file__).resolve().parent
DEFAULT_FIXTURES = TESTS_DIR.parent / "fixtures"
SAMPLE_FIXTURES = TESTS_DIR / "fixtures"
SCRIPT = TESTS_DIR.parent / "scripts" / "make_fixtures.py"


def check_fixture(registry: Registry, fixture: FixtureFile) -> Envelope | CommandEnvelope:
    data = fixture.path.read_bytes()
    header = msgspec.json.decode(data)
    assert header["type"] == fixture.name, f"{fixture.path}: `type` does not match its directory"
    assert header["schema_version"] == fixture.version, f"{fixture.path}: version != file name"
    mt = registry.describe(fixture.name)
    decoded: Envelope | CommandEnvelope = (
        registry.decode_event(data) if mt.kind == "event" else registry.decode_command(data)
    )
    assert decoded.type == fixture.name
    assert decoded.schema_version == mt.current
    assert type(decoded.payload) is mt.versions[mt.current]
    return decoded


def test_every_default_type_and_version_has_a_fixture() -> None:
    missing = missing_fixtures(default_registry(), DEFAULT_FIXTURES)
    assert not missing, (
        f"no golden fixture for {missing}: run `uv run python contracts/scripts/make_fixtures.py`, "
        "review the new files and commit them"
    )


@pytest.mark.parametrize(
    "fixture", list(iter_fixtures(DEFAULT_FIXTURES)), ids=lambda f: f"{f.name}-v{f.version}"
)
def test_default_fixture_decodes_to_the_current_version(fixture: FixtureFile) -> None:
    check_fixture(default_registry(), fixture)


def test_no_fixture_without_a_registered_type() -> None:
    """A fixture whose type or version vanished means old messages no longer decode."""
    registry = default_registry()
    for fixture in iter_fixtures(DEFAULT_FIXTURES):
        assert fixture.name in registry, f"{fixture.path}: type is no longer registered"
        assert fixture.version in registry.describe(fixture.name).versions


def test_sample_fixtures_cover_and_decode(sample_registry: Registry) -> None:
    assert not missing_fixtures(sample_registry, SAMPLE_FIXTURES)
    found = list(iter_fixtures(SAMPLE_FIXTURES))
    assert [(f.name, f.version) for f in found] == [
        ("sample.account_opened", 1),
        ("sample.account_opened", 2),
        ("sample.account_opened", 3),
        ("sample.open_account", 1),
        ("sample.open_account", 2),
    ]
    for fixture in found:
        check_fixture(sample_registry, fixture)


def test_sample_v1_fixture_upcasts_to_the_expected_v3(sample_registry: Registry) -> None:
    v3 = sample_registry.payload_class("sample.account_opened", 3)
    env = sample_registry.decode_event(
        fixture_path(SAMPLE_FIXTURES, "sample.account_opened", 1).read_bytes()
    )
    assert env.payload == v3(account_id="acc-1", owner_id="user-7", currencies=["USD"])


def test_writer_writes_only_what_is_missing(sample_registry: Registry, tmp_path: Path) -> None:
    keep = fixture_path(tmp_path, "sample.account_opened", 1)
    keep.parent.mkdir(parents=True)
    keep.write_bytes(b"hand-edited, must survive")
    written = write_missing_fixtures(sample_registry, tmp_path)
    assert len(written) == 4
    assert keep.read_bytes() == b"hand-edited, must survive"
    assert write_missing_fixtures(sample_registry, tmp_path) == []
    for path in written:
        fixture = next(f for f in iter_fixtures(tmp_path) if f.path == path)
        check_fixture(sample_registry, fixture)


def test_written_fixtures_are_reproducible(sample_registry: Registry, tmp_path: Path) -> None:
    write_missing_fixtures(sample_registry, tmp_path / "a")
    write_missing_fixtures(sample_registry, tmp_path / "b")
    for fixture in iter_fixtures(tmp_path / "a"):
        twin = fixture_path(tmp_path / "b", fixture.name, fixture.version)
        assert fixture.path.read_bytes() == twin.read_bytes()


def test_script_checks_and_writes(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--root", str(tmp_path), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    check = run("--check")
    assert check.returncode == 1
    assert "missing: system.command_accepted v1" in check.stdout
    assert run().returncode == 0
    assert run("--check").returncode == 0
    registry = default_registry()
    every_version = sum(registry.describe(name).current for name in registry.names())
    assert len(list(iter_fixtures(tmp_path))) == every_version


def test_example_payloads_respect_constraints() -> None:
    class Constrained(Payload, frozen=True, kw_only=True):
        count: Annotated[int, Meta(ge=10, multiple_of=5)]
        code: Annotated[str, Meta(min_length=12, max_length=12)]
        side: Literal["buy", "sell"]
        ratio: Annotated[float, Meta(gt=0, lt=1)] | None = None

    value = example_payload(Constrained)
    assert msgspec.convert(msgspec.to_builtins(value), Constrained) == value

    class Patterned(Payload, frozen=True, kw_only=True):
        symbol: Annotated[str, Meta(pattern="^[A-Z]+/[A-Z]+$")]

    with pytest.raises(ExampleError, match="cannot synthesise `symbol` matching"):
        example_payload(Patterned)

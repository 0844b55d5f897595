"""compile(): every validation error, with its code and the field it points at."""

from __future__ import annotations

from typing import Any

import pytest
from plutarc_bots.domain.errors import InvalidComponentConfig, InvalidStrategy, UnknownComponent
from plutarc_bots.strategy import COMPONENTS, KINDS, Strategy, compile
from plutarc_runtime.domain import Invalid

from .strategy_helpers import HALF, spec

CROSS = {"component": "ma_crossover", "params": {"fast": 9, "slow": 21}}


def rejected(*components: dict[str, Any]) -> Invalid:
    with pytest.raises(Invalid) as caught:
        compile(spec(*components))
    return caught.value


def test_a_valid_spec_compiles_to_a_fresh_strategy() -> None:
    s = compile(spec(CROSS, HALF))
    assert isinstance(s, Strategy)
    assert s.names == ["ma_crossover", "fixed_fraction"]
    assert compile(spec(CROSS, HALF)) is not s


def test_the_library_has_the_six_components_each_of_a_known_kind() -> None:
    assert sorted(COMPONENTS) == [
        "breakout",
        "dca",
        "fixed_fraction",
        "grid",
        "ma_crossover",
        "rsi_reversion",
    ]
    assert all(c.kind in KINDS and c.name == name for name, c in COMPONENTS.items())


def test_an_unknown_component() -> None:
    err = rejected(CROSS, HALF, {"component": "martingale", "params": {}})
    assert isinstance(err, UnknownComponent)
    assert (err.code, err.field) == ("bots.unknown_component", "spec.components[2].component")
    assert "martingale" in err.detail and "ma_crossover" in err.detail


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"fast": "9", "slow": 21}, "fast", "Expected `int`, got `str`"),
        ({"slow": 21}, "fast", "Object missing required field `fast`"),
        ({"fast": 1, "slow": 21}, "fast", "Expected `int` >= 2"),
        ({"fast": 9, "slow": 21, "speed": 3}, "speed", "Object contains unknown field `speed`"),
        ({"fast": 9, "slow": 21, "kind": "wma"}, "kind", "Invalid enum value 'wma'"),
        ({"fast": 21, "slow": 9}, "fast", "fast (21) must be below slow (9)"),
    ],
)
def test_invalid_crossover_params(params: dict[str, Any], field: str, message: str) -> None:
    err = rejected({"component": "ma_crossover", "params": params}, HALF)
    assert isinstance(err, InvalidComponentConfig)
    assert (err.code, err.field) == (
        "bots.invalid_component_config",
        f"spec.components[0].params.{field}",
    )
    assert err.detail == f"ma_crossover: {message}"


@pytest.mark.parametrize(
    ("component", "params", "field"),
    [
        ("fixed_fraction", {"fraction": 1.5}, "fraction"),
        ("fixed_fraction", {"fraction": 0}, "fraction"),
        (
            "fixed_fraction",
            {"fraction": 0.1, "min_notional": 50, "max_notional": 20},
            "max_notional",
        ),
        ("rsi_reversion", {"low": 80, "high": 70}, "low"),
        ("rsi_reversion", {"high": 100}, "high"),
        ("breakout", {"period": 1}, "period"),
        ("breakout", {"exit_period": True}, "exit_period"),
        ("grid", {"levels": 20, "spacing_pct": 5}, "levels"),
        ("grid", {"levels": 3}, "spacing_pct"),
        ("grid", {"levels": 3, "spacing_pct": 1, "reference": -1}, "reference"),
        ("dca", {"take_profit_pct": 2}, "every"),
        ("dca", {"every": 0, "take_profit_pct": 2}, "every"),
        ("dca", {"drop_pct": 100, "take_profit_pct": 2}, "drop_pct"),
    ],
)
def test_invalid_params_of_each_component(
    component: str, params: dict[str, Any], field: str
) -> None:
    entry = {"component": component, "params": params}
    components = [CROSS, entry] if component == "fixed_fraction" else [entry, CROSS, HALF]
    err = rejected(*components)
    assert err.code == "bots.invalid_component_config"
    where = 1 if component == "fixed_fraction" else 0
    assert err.field == f"spec.components[{where}].params.{field}"
    assert err.detail.startswith(f"{component}: ")


@pytest.mark.parametrize(
    ("components", "detail"),
    [
        ([CROSS], "exactly one position sizer (found: none)"),
        ([CROSS, HALF, HALF], "exactly one position sizer (found: components[1], components[2])"),
        ([HALF], "needs a signal or entry component"),
    ],
)
def test_structural_rules(components: list[dict[str, Any]], detail: str) -> None:
    err = rejected(*components)
    assert isinstance(err, InvalidStrategy)
    assert (err.code, err.field) == ("bots.invalid_strategy", "spec.components")
    assert detail in err.detail


def test_the_first_problem_in_order_is_reported() -> None:
    err = rejected({"component": "nope", "params": {}}, {"component": "ma_crossover"})
    assert err.field == "spec.components[0].component"

"""The component library (`COMPONENTS`) and `compile`, which turns a strategy's wire spec into a
runnable `Strategy` or raises the first problem it finds, with the field it is in."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec
from plutarc_contracts.bots import StrategySpec

from ..domain.errors import InvalidComponentConfig, InvalidStrategy, UnknownComponent
from .engine import Strategy
from .entries import DCA, GRID
from .model import ENTRY_KINDS, ComponentType, ConfigProblem, Rule, Sizer
from .signals import BREAKOUT, MA_CROSSOVER, RSI_REVERSION
from .sizing import FIXED_FRACTION

ComponentTypeAny = ComponentType[Any]

COMPONENTS: dict[str, ComponentTypeAny] = {
    c.name: c for c in (GRID, DCA, MA_CROSSOVER, RSI_REVERSION, BREAKOUT, FIXED_FRACTION)
}

DEFAULT_CASH = Decimal(10_000)

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED = re.compile(r"^Object (missing required|contains unknown) field `(?P<name>[^`]+)`")


def _config_field(prefix: str, error: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's message without its ``- at `$...``` suffix, and the field it names."""
    message = str(error)
    path = ""
    at = _AT.search(message)
    if at is not None:
        path = at.group("path")
        message = message[: at.start()]
    named = _NAMED.match(message)
    if named is not None:
        path += "." + named.group("name")
    return prefix + path, message


def compile(
    spec: StrategySpec,
    *,
    components: dict[str, ComponentTypeAny] | None = None,
    cash: Decimal = DEFAULT_CASH,
    paper: bool = True,
) -> Strategy:
    """Validate ``spec`` against the library (``components``, default `COMPONENTS`) and build a
    fresh strategy starting with ``cash`` (quote currency) and nothing held.

    Raises `UnknownComponent`, `InvalidComponentConfig` (msgspec's message, or the component's
    own check, with the field inside ``params``) or `InvalidStrategy`.
    """
    library = COMPONENTS if components is None else components
    names: list[str] = []
    kinds: list[str] = []
    built: list[Rule | Sizer] = []
    for i, ref in enumerate(spec.components):
        where = f"spec.components[{i}]"
        component = library.get(ref.component)
        if component is None:
            raise UnknownComponent(
                f"no component {ref.component!r}; the library has {', '.join(sorted(library))}",
                field=f"{where}.component",
            )
        try:
            config = component.parse(ref.params)
        except msgspec.ValidationError as exc:
            field, message = _config_field(f"{where}.params", exc)
            raise InvalidComponentConfig(f"{ref.component}: {message}", field=field) from None
        except ConfigProblem as exc:
            raise InvalidComponentConfig(
                f"{ref.component}: {exc.detail}", field=f"{where}.params.{exc.field}"
            ) from None
        state = component.build(config)
        if isinstance(state, Sizer) != (component.kind == "sizer"):
            raise TypeError(
                f"component {component.name!r} of kind {component.kind} built {state!r}"
            )
        names.append(component.name)
        kinds.append(component.kind)
        built.append(state)
    sizers = [i for i, kind in enumerate(kinds) if kind == "sizer"]
    if len(sizers) != 1:
        found = ", ".join(f"components[{i}]" for i in sizers) or "none"
        raise InvalidStrategy(
            f"a strategy has exactly one position sizer (found: {found})", field="spec.components"
        )
    if not any(kind in ENTRY_KINDS for kind in kinds):
        raise InvalidStrategy(
            "a strategy needs a signal or entry component to open positions",
            field="spec.components",
        )
    sizer = built[sizers[0]]
    assert isinstance(sizer, Sizer)
    rules = [b if isinstance(b, Rule) else None for b in built]
    return Strategy(
        timeframe=spec.timeframe,
        names=names,
        kinds=kinds,
        rules=rules,
        sizer=sizer,
        cash=cash,
        paper=paper,
    )

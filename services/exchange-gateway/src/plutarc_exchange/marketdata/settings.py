"""Settings of the market-data feed (PLUTARC_* environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from .simulator import MarketParams, MarketSpec


class MarketDataSettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    markets: Annotated[list[str], NoDecode] = Field(
        default=["binance:BTC/USDT"],
        description="Markets to feed, `venue:symbol` separated by commas "
        "(PLUTARC_MARKETS=binance:BTC/USDT,bybit:ETH/USDT)",
    )
    market_params: dict[str, MarketParams] = Field(
        default={},
        description='JSON per market, e.g. {"binance:BTC/USDT": {"price": 60000, "tick": "0.01", '
        '"step": "0.00001"}}; unset fields keep the defaults of MarketParams',
    )
    market_source: Literal["simulator", "recorded"] = "simulator"
    market_file: Path | None = Field(
        default=None, description="The JSON Lines recording to play when the source is recorded"
    )
    market_seed: int = 1
    market_speed: float = Field(
        default=1.0, gt=0, le=10_000, description="Simulated (or recorded) seconds per second"
    )
    market_interval: float = Field(
        default=0.1, gt=0, le=10, description="Seconds between publishing steps"
    )

    @field_validator("markets", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _check(self) -> MarketDataSettings:
        specs = self.specs()
        if not specs:
            raise ValueError("PLUTARC_MARKETS names no market")
        keys = {s.key for s in specs}
        unknown = sorted(set(self.market_params) - keys)
        if unknown:
            raise ValueError(f"PLUTARC_MARKET_PARAMS names markets not fed: {', '.join(unknown)}")
        if self.market_source == "recorded" and self.market_file is None:
            raise ValueError("PLUTARC_MARKET_SOURCE=recorded needs PLUTARC_MARKET_FILE")
        return self

    def specs(self) -> list[MarketSpec]:
        out = []
        for entry in self.markets:
            venue, sep, symbol = entry.partition(":")
            if not sep or not symbol:
                raise ValueError(f"market `{entry}` is not `venue:symbol`, e.g. binance:BTC/USDT")
            key = f"{venue}:{symbol}"
            out.append(MarketSpec(venue, symbol, self.market_params.get(key, MarketParams())))
        if len({s.key for s in out}) != len(out):
            raise ValueError("PLUTARC_MARKETS lists a market twice")
        return out

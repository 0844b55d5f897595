"""The exchange gateway's typed settings (PLUTARC_* environment variables)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from plutarc_runtime.settings import RuntimeSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class ExchangeSettings(RuntimeSettings):
    model_config = SettingsConfigDict(env_prefix="PLUTARC_", extra="ignore")

    exchange_sealing_key: SecretStr | None = Field(
        default=None,
        description="The gateway's private sealing key (URL-safe base64, 32 bytes); when unset, "
        "kept in <data_dir>/exchange-gateway.sealing-key, created on first start",
    )
    exchange_kek: SecretStr | None = Field(
        default=None,
        description="The key-encryption key wrapping each connection's data key (URL-safe base64, "
        "32 bytes); when unset, kept in <data_dir>/exchange-gateway.kek, created on first start",
    )
    exchange_paper_balances: str = Field(
        default="USDT=10000,USD=10000,USDC=10000,BTC=0,ETH=0",
        description="What a bot's paper book starts with, per currency (CUR=amount,...)",
    )
    exchange_paper_seed: int = Field(default=7, description="The paper engines' seed")
    exchange_paper_latency: bool = Field(
        default=True, description="Apply each venue's latency model to paper orders"
    )
    exchange_timer_interval_seconds: float = Field(
        default=5, gt=0, description="How often the gateway checks its sealing key is published"
    )
    exchange_ca_file: Path | None = Field(
        default=None,
        description="Tests and local fakes: a CA file the venue clients trust instead of the "
        "system's (verification stays on)",
    )
    exchange_venue_urls: str = Field(
        default="",
        description="Tests and local fakes: venue=http://host:port,... rewrites the scheme and "
        "host of every ccxt API URL of that venue",
    )

    def key_path(self, name: str) -> Path:
        return self.data_dir / f"exchange-gateway.{name}"

    def paper_balances(self) -> dict[str, Decimal]:
        return parse_amounts(self.exchange_paper_balances)

    def venue_urls(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in self.exchange_venue_urls.split(","))):
            venue, sep, url = item.partition("=")
            if not sep or not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"PLUTARC_EXCHANGE_VENUE_URLS: `{item}` is not venue=http(s)://..."
                )
            found[venue.strip()] = url.strip().rstrip("/")
        return found


def parse_amounts(text: str) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        currency, sep, amount = item.partition("=")
        try:
            value = Decimal(amount)
        except ArithmeticError:
            value = Decimal(-1)
        if not sep or not currency.strip() or not value.is_finite() or value < 0:
            raise ValueError(f"`{item}` is not CURRENCY=amount (a non-negative number)")
        found[currency.strip().upper()] = value
    return found

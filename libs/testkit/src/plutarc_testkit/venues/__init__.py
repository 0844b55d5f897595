"""Fake venues for tests: local aiohttp servers speaking the real HTTP APIs of Binance (spot),
Bybit (v5), OKX (v5) and BitMEX, so the real ccxt client runs against them unchanged."""

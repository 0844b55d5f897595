"""Fake venues for tests: local aiohttp servers speaking the real HTTP APIs of Binance (spot),
Bybit (v5) and OKX (v5), so the real ccxt client runs against them unchanged."""

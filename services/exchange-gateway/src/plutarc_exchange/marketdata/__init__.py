"""Market data: sources (the seeded simulator, recordings), their publication on the market
topics, candles derived from trades, and what consumers need to read them (docs/market-data.md).

- `simulator`: `Simulator`, `MarketSpec`, `MarketParams`
- `feed`: `run_feed` (`plutarc-market-data`); `recorded`: `record`, `play`, `read_recording`
- `candle_processor`: `CandleProcessor` (`plutarc-market-candles`), `CandleReader`
- `book`: `OrderBook`, `SequenceGap`, a consumer's copy of a market's book
"""

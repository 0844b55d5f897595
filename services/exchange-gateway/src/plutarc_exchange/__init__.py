"""plutarc's exchange gateway: venue connections, routing of bots' orders by mode, the risk gate,
the paper fill engine, market data, positions and PnL. See docs/exchange.md."""

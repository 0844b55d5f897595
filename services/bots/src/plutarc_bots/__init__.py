"""plutarc's bots service: the strategy library, bots and their versions, trading sessions and
their windows, risk limits. See docs/bots.md."""

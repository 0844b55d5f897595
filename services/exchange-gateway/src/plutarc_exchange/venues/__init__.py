"""The venue side of the exchange gateway: the capability table, market snapshots, client order
ids, errors at the boundary and ``VenueClient`` over ccxt's async client. See docs/venues.md."""

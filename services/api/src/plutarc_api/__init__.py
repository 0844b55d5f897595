"""plutarc gateway API: a thin FastAPI front over Kafka commands and replayed projections."""

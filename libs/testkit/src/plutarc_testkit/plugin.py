"""pytest plugin: fixtures that start the real Kafka and PostgreSQL for a test run."""

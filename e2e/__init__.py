"""Black-box tests of the running system: real Kafka, the identity service and the gateway API."""

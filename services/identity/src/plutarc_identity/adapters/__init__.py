"""Identity's adapters: the ports its intents go out through, and their real implementations."""

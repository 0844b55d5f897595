"""The bots service's domain: its rules and errors, free of I/O."""

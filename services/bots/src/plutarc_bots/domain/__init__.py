"""The bots service's domain: its errors (each code stable on the wire)."""

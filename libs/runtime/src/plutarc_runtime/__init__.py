"""plutarc shared runtime: store base, outbox relay, consumers, commands, settings, clock, ops.

It holds no domain logic; services build on it.
"""

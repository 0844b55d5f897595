"""Compute providers: what a bot's host is made of, behind one interface (`base.Provider`).

- `local` (the embedded default): Pulumi with a dynamic provider; the address is a stable loopback
  address, the host a bot runtime and its egress proxy bound to it.
- `aws`: Pulumi with pulumi-aws; an Elastic IP kept while asleep, an instance and its association.
- `memory`: the same contract in memory, for simulations and the scheduler's tests.
"""

"""A small service written only for the runtime's tests, in the shape every service has.

Reminders in a workspace: members with `bots:update` set them, a timer fires them when due,
a reaction pages the workspace through an adapter, and private notes go to a private topic. It
uses every part of the shape (contracts, an aggregate, handlers by class, `require`, a reaction
through an adapter, a timer on the clock, a read model, a private topic) and adds nothing to the
runtime: the proof that a new service is "the same shape with other nouns".
"""

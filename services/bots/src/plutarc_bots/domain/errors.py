"""Bots' domain errors. Each code is stable: it travels in rejection replies and HTTP problems;
each base class (NotFound, Forbidden, Conflict, Invalid) is the rejection's kind."""

from __future__ import annotations

from plutarc_runtime.domain import Invalid


class UnknownComponent(Invalid):
    """A strategy names a component the library does not have (field:
    ``spec.components[i].component``)."""

    code = "bots.unknown_component"


class InvalidComponentConfig(Invalid):
    """A component's parameters do not fit its typed configuration: a wrong type, a missing or
    unknown field, a value out of range, or a rule between its own fields (a crossover's ``fast``
    not below ``slow``). The field points inside the parameters:
    ``spec.components[0].params.fast``."""

    code = "bots.invalid_component_config"


class InvalidStrategy(Invalid):
    """The components do not make a strategy: not exactly one position sizer, or nothing that
    opens a position (field: ``spec.components``)."""

    code = "bots.invalid_strategy"

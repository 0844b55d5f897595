"""The one exception type that crosses the contracts boundary.

Consumers (the relay, projections, the API edge) must be able to handle a bad message without
knowing which library parsed it, so every failure, whatever raised it underneath, surfaces as a
ContractError with a stable ``code``. Codes are part of the public contract: dead-letter records and
RFC 9457 problem documents carry them, so they are never renamed, only added.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

NOT_JSON: Final = "contract.not_json"
NOT_OBJECT: Final = "contract.not_object"
UNKNOWN_TYPE: Final = "contract.unknown_type"
UNKNOWN_VERSION: Final = "contract.unknown_version"
MISSING_FIELD: Final = "contract.missing_field"
WRONG_TYPE: Final = "contract.wrong_type"
UNKNOWN_FIELD: Final = "contract.unknown_field"
INVALID: Final = "contract.invalid"
TYPE_MISMATCH: Final = "contract.type_mismatch"
UPCAST_FAILED: Final = "contract.upcast_failed"
UNKNOWN_TOPIC: Final = "contract.unknown_topic"
NOT_A_READER: Final = "contract.not_a_reader"
REGISTRATION: Final = "contract.registration"

CODES: Final = frozenset(
    {
        NOT_JSON,
        NOT_OBJECT,
        UNKNOWN_TYPE,
        UNKNOWN_VERSION,
        MISSING_FIELD,
        WRONG_TYPE,
        UNKNOWN_FIELD,
        INVALID,
        TYPE_MISMATCH,
        UPCAST_FAILED,
        UNKNOWN_TOPIC,
        NOT_A_READER,
        REGISTRATION,
    }
)


class ContractError(Exception):
    """A message or a definition that breaks the wire contract.

    ``path`` is the dotted field path when the problem is one field (``payload.email``); the API
    edge puts it in ``CommandRejected.field`` so a client can point at the offending input.
    """

    code: str
    message: str
    path: str | None

    def __init__(self, code: str, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle through self.args by default, which would drop ``code``; workers that
        # ship errors across process boundaries need the full triple.
        return (_rebuild, (type(self), self.code, self.message, self.path))


class RegistrationError(ContractError):
    """A type definition that cannot be registered: a programming error, caught at start-up."""

    def __init__(self, message: str) -> None:
        super().__init__(REGISTRATION, message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message,))


def _rebuild(cls: type[ContractError], code: str, message: str, path: str | None) -> ContractError:
    return cls(code, message, path=path)


# msgspec reports validation problems as English sentences with a JSON path suffix. These patterns
# are the only place that depends on that wording; test_codec pins every branch so an upgrade that
# rewords them fails loudly instead of silently degrading codes to contract.invalid.
_AT = r"(?: - at `\$(?P<at>[^`]*)`)?$"
_MISSING_RE = re.compile(r"^Object missing required field `(?P<field>[^`]*)`" + _AT)
_UNKNOWN_RE = re.compile(r"^Object contains unknown field `(?P<field>[^`]*)`" + _AT)
_WRONG_RE = re.compile(r"^Expected `(?P<expected>[^`]*)`, got `(?P<got>[^`]*)`" + _AT)
_SUFFIX_RE = re.compile(r" - at `\$(?P<at>[^`]*)`$")


def _join(prefix: str, at: str | None, field: str | None = None) -> str:
    path = prefix + (at or "")
    if field is not None:
        path = f"{path}.{field}"
    return path.lstrip(".")


def from_msgspec(exc: Exception, *, prefix: str = "", context: str = "") -> ContractError:
    """Translate a msgspec (or codec-level) exception into a ContractError.

    ``prefix`` is the path of the document being decoded inside the envelope (``payload`` when the
    payload is decoded on its own), so paths always read from the envelope root. ``context`` is
    prepended to the message, e.g. "`identity.member_invited` v1: ".
    """
    if isinstance(exc, msgspec.ValidationError):
        text = str(exc)
        if m := _MISSING_RE.match(text):
            path = _join(prefix, m["at"], m["field"])
            return ContractError(
                MISSING_FIELD, f"{context}missing required field `{path}`", path=path
            )
        if m := _UNKNOWN_RE.match(text):
            path = _join(prefix, m["at"], m["field"])
            return ContractError(UNKNOWN_FIELD, f"{context}unknown field `{path}`", path=path)
        if m := _WRONG_RE.match(text):
            path = _join(prefix, m["at"])
            if not path:
                return ContractError(
                    NOT_OBJECT, f"{context}message must be a JSON object, got `{m['got']}`"
                )
            return ContractError(
                WRONG_TYPE,
                f"{context}wrong type for `{path}`: expected `{m['expected']}`, got `{m['got']}`",
                path=path,
            )
        m = _SUFFIX_RE.search(text)
        path = _join(prefix, m["at"] if m else None)
        reason = text[: m.start()] if m else text
        where = f" `{path}`" if path else ""
        return ContractError(INVALID, f"{context}invalid value{where}: {reason}", path=path or None)
    if isinstance(exc, msgspec.DecodeError | UnicodeDecodeError):
        return ContractError(NOT_JSON, f"{context}message is not valid JSON: {exc}")
    return ContractError(INVALID, f"{context}{type(exc).__name__}: {exc}")

"""Venue errors at the boundary: ccxt's exceptions become our kinds with stable codes.

Nothing above the venue adapter sees a ccxt class. Each error carries ``retry_safe``: whether
sending the same request again can succeed without harm. For placing an order this is only true
through ``VenueClient.place_order``, which looks the order up by its client id before a retry.
"""

from __future__ import annotations

import ccxt

VENUE_CODES = (
    "venue.insufficient_funds",
    "venue.invalid_order",
    "venue.order_not_found",
    "venue.rate_limited",
    "venue.unavailable",
    "venue.auth_failed",
    "venue.network",
    "venue.timeout",
    "venue.not_supported",
    "venue.rejected",
    "venue.no_testnet",
    "venue.unsupported",
    "venue.closed",
)


class VenueError(Exception):
    """A venue said no, or could not be reached. ``code`` is stable (events and the API carry
    it); ``message`` is for people; ``outcome_unknown`` marks a request whose effect at the venue
    is not known (a timeout or a dropped connection after sending)."""

    code = "venue.rejected"
    retry_safe = False

    def __init__(self, message: str, *, venue: str = "", outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.venue = venue
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InsufficientFunds(VenueError):
    code = "venue.insufficient_funds"


class InvalidOrder(VenueError):
    code = "venue.invalid_order"


class OrderNotFound(VenueError):
    code = "venue.order_not_found"


class RateLimited(VenueError):
    code = "venue.rate_limited"
    retry_safe = True


class VenueUnavailable(VenueError):
    code = "venue.unavailable"
    retry_safe = True


class AuthFailed(VenueError):
    code = "venue.auth_failed"


class NetworkFailure(VenueError):
    code = "venue.network"
    retry_safe = True


class VenueTimeout(VenueError):
    code = "venue.timeout"
    retry_safe = True


class NotSupported(VenueError):
    code = "venue.not_supported"


class Rejected(VenueError):
    code = "venue.rejected"


class NoTestnet(VenueError):
    """The venue has no testnet for this market kind: use paper mode, which works on every
    venue."""

    code = "venue.no_testnet"


class VenueClosed(VenueError):
    """The venue stopped trading (BitMEX, 2026-09-23): its markets remain on paper only."""

    code = "venue.closed"


class Unsupported(VenueError):
    """An unknown venue, or a market kind the venue does not trade."""

    code = "venue.unsupported"


# Most specific first: ccxt's RequestTimeout, RateLimitExceeded and DDoSProtection (HTTP 429)
# are NetworkErrors, OrderNotFound is an InvalidOrder.
_MAPPING: tuple[tuple[type[Exception], type[VenueError]], ...] = (
    (ccxt.RequestTimeout, VenueTimeout),
    (ccxt.RateLimitExceeded, RateLimited),
    (ccxt.DDoSProtection, RateLimited),
    (ccxt.ExchangeNotAvailable, VenueUnavailable),
    (ccxt.NetworkError, NetworkFailure),
    (ccxt.AuthenticationError, AuthFailed),
    (ccxt.InsufficientFunds, InsufficientFunds),
    (ccxt.OrderNotFound, OrderNotFound),
    (ccxt.InvalidOrder, InvalidOrder),
    (ccxt.BadRequest, InvalidOrder),
    (ccxt.NotSupported, NotSupported),
)

_UNKNOWN_OUTCOME = (VenueTimeout, NetworkFailure, VenueUnavailable)


def from_ccxt(error: Exception, *, venue: str) -> VenueError:
    """Our kind for a ccxt exception."""
    kind: type[VenueError] = Rejected
    for ccxt_class, ours in _MAPPING:
        if isinstance(error, ccxt_class):
            kind = ours
            break
    message = str(error) or type(error).__name__
    return kind(f"{venue}: {message}"[:500], venue=venue, outcome_unknown=kind in _UNKNOWN_OUTCOME)

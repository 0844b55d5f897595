"""Access decisions from the one Rego policy: in-process (regopy) or on an OPA server.

Both engines take an ``AccessRequest`` and return a ``Decision`` with the policy's reasons, so
callers can switch engine by configuration and the parity test can compare them answer for answer.

Why a cache in ``RegoEngine``: a compiled-bundle evaluation costs ~100 us, and a service checks
the same handful of (role, permission) pairs over and over. The policy reads only four facts from
the input — the actor's role, the permission, ``resource.target_role``, and whether
``resource.target_user_id`` equals the actor's id — so a decision keyed by those four is exact.
Only keys drawn from the known vocabulary are cached, which bounds the cache (5 roles x 34
permissions x 6 target-role states x 2) no matter what callers send; anything else is evaluated
every time (and is denied by the policy anyway).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import msgspec
from plutarc_contracts.permissions import PERMISSIONS, ROLES

from plutarc_access.policy import DECISION_ENTRYPOINT, PACKAGE, load_policy_dir


class AccessError(Exception):
    """The policy could not be evaluated (engine failure, OPA unreachable, policy not loaded).

    Never a denial: callers must treat it as "not allowed" and report an outage, not a refusal.
    """


class AccessRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Who wants to do what, to which resource. ``role`` is a plain string: it comes from an
    identity projection and may be stale or unknown, in which case the policy denies."""

    actor_id: str
    role: str
    permission: str
    resource: dict[str, Any] = {}
    """Optional attributes the policy reads: ``target_role``, ``target_user_id``."""

    def to_input(self) -> dict[str, Any]:
        """The policy's ``input`` document."""
        return {
            "actor": {"id": self.actor_id, "role": self.role},
            "permission": self.permission,
            "resource": self.resource,
        }


class Decision(msgspec.Struct, frozen=True):
    """The policy's answer; ``reasons`` (sorted) explain a denial and are empty when allowed."""

    allowed: bool
    reasons: tuple[str, ...] = ()


class AccessEngine(Protocol):
    """What every engine offers; services depend on this, not on a concrete engine."""

    def decide(self, request: AccessRequest) -> Decision: ...

    def close(self) -> None: ...


_ABSENT: Final = object()
_ROLE_SET: Final = frozenset(ROLES)
_PERMISSION_SET: Final = frozenset(PERMISSIONS)

CacheKey = tuple[str, str, str | None, bool]


def cache_key(request: AccessRequest) -> CacheKey | None:
    """(role, permission, target_role, is_self), or None when the request must not be cached.

    None for anything outside the known vocabulary (bounds the cache) and for attribute values the
    policy would treat differently from "absent" or "a role name" (e.g. ``target_role: null``).
    """
    if request.role not in _ROLE_SET or request.permission not in _PERMISSION_SET:
        return None
    resource = request.resource
    target_role = resource.get("target_role", _ABSENT)
    if target_role is _ABSENT:
        target = None
    elif isinstance(target_role, str) and target_role in _ROLE_SET:
        target = target_role
    else:
        return None
    target_user = resource.get("target_user_id", _ABSENT)
    if target_user is _ABSENT:
        is_self = False
    elif isinstance(target_user, str):
        is_self = target_user == request.actor_id
    else:
        return None
    return (request.role, request.permission, target, is_self)


def _to_decision(result: object) -> Decision:
    """Turn the policy's ``decision`` document into a Decision; anything else is an AccessError."""
    if not isinstance(result, dict):
        raise AccessError(f"policy returned {result!r} instead of a decision object")
    allowed = result.get("allow")
    reasons = result.get("reasons", [])
    if not isinstance(allowed, bool) or not isinstance(reasons, list):
        raise AccessError(f"malformed decision {result!r}")
    return Decision(allowed=allowed, reasons=tuple(sorted(str(r) for r in reasons)))


class RegoEngine:
    """Evaluates the policy in-process with regopy (rego-cpp), through a compiled bundle.

    The bundle is compiled once at construction; each evaluation calls the compiled
    ``plutarc/authz/decision`` entrypoint, which is ~10x faster than ``Interpreter.query`` and,
    unlike a bare query, returns ``false`` rather than undefined for a default-false rule.
    A regopy interpreter holds the input as mutable state, so evaluations are serialised by a
    lock; cache hits never take it.
    """

    def __init__(self, policy_dir: Path | None = None, *, cache: bool = True) -> None:
        import regopy

        files = load_policy_dir(policy_dir)
        builder = regopy.Interpreter()
        try:
            for name, source in files.modules.items():
                builder.add_module(name, source)
            builder.add_data(files.data)
            self._bundle = builder.build(None, [DECISION_ENTRYPOINT])
        except regopy.RegoError as exc:
            raise AccessError(f"policy does not compile: {exc}") from exc
        self._interpreter = regopy.Interpreter()
        self._lock = threading.Lock()
        self._cache: dict[CacheKey, Decision] = {}
        self.cache_enabled = cache
        self.evaluations = 0
        """How many times the policy really ran (cache misses), for tests and metrics."""

    def decide(self, request: AccessRequest) -> Decision:
        """The decision for one request; cached by ``cache_key`` when caching is enabled."""
        key = cache_key(request) if self.cache_enabled else None
        if key is not None:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        decision = self.evaluate(request.to_input())
        if key is not None:
            self._cache[key] = decision
        return decision

    def evaluate(self, policy_input: dict[str, Any]) -> Decision:
        """Run the policy on a raw input document, bypassing the cache."""
        with self._lock:
            self.evaluations += 1
            self._interpreter.set_input(policy_input)
            output = self._interpreter.query_bundle_entrypoint(self._bundle, DECISION_ENTRYPOINT)
            if not output.ok():
                raise AccessError(f"policy evaluation failed: {output}")
            if len(output) == 0:
                raise AccessError("policy decision is undefined")
            return _to_decision(output[0][0])

    def clear_cache(self) -> None:
        """Forget cached decisions (after the policy or catalogue changed underneath)."""
        with self._lock:
            self._cache.clear()

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self.clear_cache()


class OpaServerEngine:
    """Asks a running OPA server (``POST /v1/data/plutarc/authz/decision``) via opa-python-client.

    Deliberately uncached: deployments that choose an OPA server do so to update policy or data
    without restarting services, and a local cache would hide those updates.
    With ``push=True`` the policy modules and data from ``policy_dir`` are uploaded on start (for a
    server started empty); otherwise the server is expected to have loaded the same directory with
    ``opa run --server <dir>``.
    """

    def __init__(
        self,
        url: str,
        *,
        push: bool = False,
        policy_dir: Path | None = None,
        timeout: float = 5.0,
    ) -> None:
        from opa_client import OpaClient

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OPA url must be http(s)://host:port, got {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 8181)
        self.url = url
        self._client = OpaClient(
            host=parts.hostname, port=port, ssl=parts.scheme == "https", timeout=timeout
        )
        if push:
            self.push(policy_dir)

    def push(self, policy_dir: Path | None = None) -> None:
        """Upload every module and data document from the policy directory to the server."""
        files = load_policy_dir(policy_dir)
        try:
            for key, value in files.data.items():
                self._client.update_or_create_data(value, key)
            for name, source in files.modules.items():
                self._client.update_policy_from_string(
                    source, name.removesuffix(".rego"), rego_compat=False
                )
        except Exception as exc:  # the client raises its own types and requests' errors
            raise AccessError(f"could not push the policy to {self.url}: {exc}") from exc

    def decide(self, request: AccessRequest) -> Decision:
        try:
            response = self._client.query_rule(request.to_input(), PACKAGE, "decision")
        except Exception as exc:
            raise AccessError(f"OPA at {self.url} failed: {exc}") from exc
        if not isinstance(response, dict) or "result" not in response:
            raise AccessError(f"OPA at {self.url} has no {PACKAGE}.decision (policy not loaded?)")
        return _to_decision(response["result"])

    def close(self) -> None:
        self._client.close_connection()


def engine_for(opa_url: str | None, *, timeout: float = 2.0) -> AccessEngine:
    """The engine a service is configured for: an OPA server at ``opa_url``, else in-process."""
    if opa_url:
        return OpaServerEngine(opa_url, timeout=timeout)
    return RegoEngine()

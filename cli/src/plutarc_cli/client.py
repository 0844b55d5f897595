"""A small HTTP client of the gateway API, and where the command line keeps its session.

Every error the API returns is RFC 9457 problem+json with a stable ``code``; the client raises it as
``ApiError(code, detail, status)``. Every write carries an ``Idempotency-Key`` (a uuid4), and the
client retries a write only with the key it first sent, so a retry can never apply a command twice.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypedDict, cast
from urllib.parse import quote

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_URL_ENV = "PLUTARC_API_URL"
CREDENTIALS_FILE = "credentials.json"
INVITATION_PREFIX = "pli_"

Role = Literal["owner", "admin", "manager", "trader", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "admin", "manager", "trader", "viewer")
_RETRY_STATUSES = {502, 503, 504}
STREAM_READ_TIMEOUT = 90.0
"""Seconds without a byte before a live stream counts as lost (the API sends a heartbeat every
15 s by default); it is then resumed, so a longer server heartbeat costs a reconnection, no loss."""


class ApiError(Exception):
    """A problem the API answered (or, with status 0, that it could not be reached)."""

    def __init__(
        self,
        code: str,
        detail: str,
        status: int,
        *,
        errors: list[dict[str, Any]] | None = None,
        command_id: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.status = code, detail, status
        self.errors = errors or []
        self.command_id = command_id

    def one_line(self) -> str:
        """``code: detail``, with the fields an invalid request named."""
        extra = "; ".join(
            f"{e.get('field')}: {e.get('message')}"
            for e in self.errors
            if e.get("field") and e.get("message") and e.get("message") != self.detail
        )
        return f"{self.code}: {self.detail}" + (f" ({extra})" if extra else "")


# --- response bodies (services/api/src/plutarc_api/schemas.py) -----------------------------------


class User(TypedDict):
    user_id: str
    email: str
    display_name: str
    personal_workspace_id: str


class Session(TypedDict):
    token: str
    token_type: str
    session_id: str
    user_id: str
    expires_at: str


class Membership(TypedDict):
    workspace_id: str
    name: str
    kind: Literal["personal", "organisation"]
    role: Role
    archived: bool


class Workspace(TypedDict):
    workspace_id: str
    name: str
    kind: Literal["personal", "organisation"]
    archived: bool
    created_at: str
    your_role: Role
    risk: dict[str, str]
    billing_contact: str | None


class Member(TypedDict):
    user_id: str
    email: str | None
    display_name: str | None
    role: Role


class Invitation(TypedDict):
    invitation_id: str
    email: str
    role: Role
    expires_at: str
    status: Literal["pending", "accepted", "declined", "revoked", "expired"]


class InvitationCreated(Invitation):
    token: str


class AuditEntry(TypedDict):
    position: int
    event_id: str
    occurred_at: str
    actor: str
    action: str
    workspace_id: str | None
    target: str | None
    before: dict[str, Any]
    after: dict[str, Any]
    correlation_id: str
    causation_id: str | None


class AuditPage(TypedDict):
    entries: list[AuditEntry]
    next_cursor: str | None


class CommandStatus(TypedDict, total=False):
    command_id: str
    status: Literal["pending", "accepted", "rejected"]
    code: str | None
    detail: str | None
    result: dict[str, Any]


class PlutarcClient:
    """Typed calls to the gateway API over one httpx connection pool.

    ``retries`` is how many more times a request is sent when it never reached the API (connection
    refused, API still warming up), or, for reads and for writes whose route honours the
    Idempotency-Key, when its fate is unknown (timeout, dropped connection, 502/504). A write is
    resent with the key it first carried, so the API answers the first outcome instead of running
    the command twice. A command whose reply outlived the API's deadline (202) is followed on its
    status URL for up to ``wait`` seconds.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retries, self.wait, self._sleep = retries, wait, sleep
        headers = {"Accept": "application/json, application/problem+json"}
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers=headers, transport=transport
        )

    def __enter__(self) -> PlutarcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- auth --------------------------------------------------------------------------------

    def register(self, email: str, display_name: str, password: str) -> User:
        body = {"email": email, "display_name": display_name, "password": password}
        return cast(User, self._write("POST", "/v1/auth/register", body, auth=False, keyed=True))

    def login(self, email: str, password: str) -> Session:
        body = {"email": email, "password": password}
        return cast(Session, self._write("POST", "/v1/auth/login", body, auth=False))

    def logout(self) -> None:
        self._write("POST", "/v1/auth/logout", None)

    def me(self) -> User:
        return cast(User, self._read("/v1/me"))

    def my_workspaces(self) -> list[Membership]:
        return cast(list[Membership], self._read("/v1/me/workspaces"))

    # --- workspaces --------------------------------------------------------------------------

    def create_organisation(self, name: str) -> Workspace:
        out = self._write("POST", "/v1/organisations", {"name": name}, keyed=True)
        if _is_pending_result(out):
            return self.workspace(out["result"]["workspace_id"])
        return cast(Workspace, out)

    def workspace(self, workspace_id: str) -> Workspace:
        return cast(Workspace, self._read(f"/v1/workspaces/{_seg(workspace_id)}"))

    # --- members and invitations -------------------------------------------------------------

    def members(self, workspace_id: str) -> list[Member]:
        return cast(list[Member], self._read(f"/v1/workspaces/{_seg(workspace_id)}/members"))

    def change_role(self, workspace_id: str, user_id: str, role: Role) -> list[Member]:
        path = f"/v1/workspaces/{_seg(workspace_id)}/members/{_seg(user_id)}"
        out = self._write("PATCH", path, {"role": role}, keyed=True)
        if _is_pending_result(out):
            return self.members(workspace_id)
        return cast(list[Member], out)

    def invite(
        self, workspace_id: str, email: str, role: Role, expires_in_days: int = 7
    ) -> InvitationCreated:
        body = {"email": email, "role": role, "expires_in_days": expires_in_days}
        path = f"/v1/workspaces/{_seg(workspace_id)}/invitations"
        # Not resent on an unknown outcome: the API mints a new token on every request while the
        # identity service keeps the first command's token hash, so a replay's token would not work.
        out = self._write("POST", path, body)
        if _is_pending_result(out):
            # The token travels only in the 201 answer: a late reply cannot give it back.
            raise ApiError(
                "cli.invitation_token_lost",
                "the invitation was accepted after the API's deadline, so its token was never "
                "returned; resend the invitation to get a new token",
                202,
                command_id=out.get("command_id"),
            )
        return cast(InvitationCreated, out)

    def accept_invitation(self, token: str) -> Invitation:
        out = self._write("POST", "/v1/invitations/accept", {"token": token})
        if _is_pending_result(out):
            return cast(Invitation, {**out["result"], "status": "accepted"})
        return cast(Invitation, out)

    def command_status(self, command_id: str) -> CommandStatus:
        return cast(CommandStatus, self._read(f"/v1/commands/{_seg(command_id)}"))

    # --- the audit log and live events -------------------------------------------------------

    def audit_page(
        self,
        workspace_id: str,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> AuditPage:
        """One page of the audit log, oldest (or newest) first; `next_cursor` asks for the next."""
        params: dict[str, Any] = {"limit": limit}
        if newest_first:
            params["order"] = "newest"
        for name, value in (("actor", actor), ("action", action), ("cursor", cursor)):
            if value is not None:
                params[name] = value
        for name, instant in (("since", since), ("until", until)):
            if instant is not None:
                params[name] = instant.isoformat()
        return cast(AuditPage, self._read(f"/v1/workspaces/{_seg(workspace_id)}/audit", params))

    @contextmanager
    def event_lines(self, workspace_id: str, *, after: int | None) -> Iterator[Iterator[str]]:
        """The workspace's live events (server-sent events) after position `after` (None: from
        now on), as the lines of the response. One connection, not retried: a stream that ends
        or fails is the caller's to resume (`plutarc_cli.events.follow`)."""
        if not self.token:
            raise ApiError("cli.not_logged_in", "not logged in; run `plutarc login`", 401)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        path = f"/v1/workspaces/{_seg(workspace_id)}/events"
        timeout = httpx.Timeout(self._http.timeout.connect, read=STREAM_READ_TIMEOUT)
        try:
            with self._http.stream("GET", path, headers=headers, timeout=timeout) as response:
                if response.status_code != 200:
                    response.read()
                    _decode(response)
                    raise ApiError(
                        f"http.{response.status_code}", "not an event stream", response.status_code
                    )
                yield response.iter_lines()
        except httpx.TransportError as exc:
            why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise ApiError(
                "cli.unreachable", f"the live stream from {self.base_url} failed ({why})", 0
            ) from None

    def pause(self, seconds: float) -> None:
        """Wait as this client waits between retries (tests give it a clock that does not)."""
        self._sleep(seconds)

    # --- plumbing ----------------------------------------------------------------------------

    def _read(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params, resendable=True)

    def _write(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        auth: bool = True,
        keyed: bool = False,
    ) -> Any:
        """Every write carries a fresh Idempotency-Key. ``keyed``: the route honours it, so a
        request whose fate is unknown (timeout, dropped connection, 502/504) may be resent."""
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        out = self._send(method, path, json_body=body, headers=headers, auth=auth, resendable=keyed)
        if isinstance(out, dict) and out.get("status") == "pending" and "status_url" in out:
            return self._follow(out)
        return out

    def _follow(self, pending: dict[str, Any]) -> dict[str, Any]:
        """The command outlived the API's deadline: poll its status until it settles."""
        command_id = str(pending["command_id"])
        deadline = time.monotonic() + self.wait
        while True:
            if self.token is None:
                break
            status = self.command_status(command_id)
            if status.get("status") == "accepted":
                return {"command_id": command_id, "status": "accepted", **status}
            if status.get("status") == "rejected":
                raise ApiError(
                    str(status.get("code") or "command.rejected"),
                    str(status.get("detail") or "the command was rejected"),
                    409,
                    command_id=command_id,
                )
            if time.monotonic() >= deadline:
                break
            self._sleep(1.0)
        raise ApiError(
            "cli.command_pending",
            f"the API has not answered command {command_id} yet; it may still apply. "
            "Run the same command again later, or check the command's status",
            202,
            command_id=command_id,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        resendable: bool = False,
    ) -> Any:
        headers = dict(headers or {})
        if auth:
            if not self.token:
                raise ApiError("cli.not_logged_in", "not logged in; run `plutarc login`", 401)
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method, path, json=json_body, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt < self.retries and (never_sent or resendable):
                    attempt += 1
                    self._sleep(_backoff(attempt))
                    continue
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                what = (
                    f"cannot reach the API at {self.base_url}"
                    if never_sent
                    else f"no answer from the API at {self.base_url}; the request may have "
                    "been applied"
                )
                raise ApiError("cli.unreachable", f"{what} ({why})", 0) from None
            if attempt < self.retries and _retry_status(response, resendable):
                attempt += 1
                self._sleep(_retry_after(response, attempt))
                continue
            return _decode(response)


def _is_pending_result(out: Any) -> bool:
    return isinstance(out, dict) and out.get("status") == "accepted" and "result" in out


def keyed_write(client: PlutarcClient, method: str, path: str, body: dict[str, Any] | None) -> Any:
    """A write to a route that honours Idempotency-Key (resent on an unknown fate); None when
    the command was accepted after the API's deadline: the caller reads the resource again."""
    out = client._write(method, path, body, keyed=True)
    if isinstance(out, dict) and out.get("status") == "accepted" and "result" in out:
        return None
    return out


def _seg(value: str) -> str:
    """A path segment, escaped so an argument cannot walk to another route."""
    return quote(value, safe="")


def _retry_status(response: httpx.Response, resendable: bool) -> bool:
    """A warming-up API refused before doing anything; a gateway error leaves the fate unknown."""
    if response.status_code == 503 and response.headers.get("content-type", "").startswith(
        "application/problem+json"
    ):
        try:
            if response.json().get("code") == "api.warming_up":
                return True
        except ValueError:
            pass
    return resendable and response.status_code in _RETRY_STATUSES


def _backoff(attempt: int) -> float:
    return min(0.2 * float(1 << attempt), 2.0)


def _retry_after(response: httpx.Response, attempt: int) -> float:
    try:
        return min(float(response.headers.get("Retry-After", "")), 5.0)
    except ValueError:
        return _backoff(attempt)


def _decode(response: httpx.Response) -> Any:
    if response.status_code == 204:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        return body
    if isinstance(body, dict) and "code" in body:
        raise ApiError(
            str(body["code"]),
            str(body.get("detail") or body.get("title") or response.reason_phrase),
            int(body.get("status") or response.status_code),
            errors=body.get("errors") if isinstance(body.get("errors"), list) else None,
        )
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    raise ApiError(
        f"http.{response.status_code}",
        text or response.reason_phrase or "unexpected answer",
        response.status_code,
    )


# --- the session on disk -------------------------------------------------------------------------


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/plutarc``, else ``~/.config/plutarc``."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "plutarc"


def credentials_path() -> Path:
    return config_dir() / CREDENTIALS_FILE


@dataclass
class Credentials:
    """What ``plutarc login`` remembers: where the API is, the session, and the current workspace."""

    api_url: str | None = None
    token: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    email: str | None = None
    expires_at: str | None = None
    workspace_id: str | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> Credentials:
        path = path or credentials_path()
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise ApiError(
                "cli.bad_credentials_file",
                f"cannot read {path} ({exc}); delete it and log in again",
                0,
            ) from None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known and isinstance(v, str | None)})

    def save(self, path: Path | None = None) -> Path:
        """Write atomically: the directory 0700, the file 0600 from the moment it exists."""
        path = path or credentials_path()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(asdict(self), f, indent=2)
                f.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def forget_session(self) -> None:
        self.token = self.session_id = self.expires_at = None


def resolve_api_url(flag: str | None, stored: Credentials) -> str:
    """``--api``, else the URL you logged in to, else ``$PLUTARC_API_URL``, else the local default."""
    url = flag or stored.api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ApiError("cli.bad_api_url", f"the API URL must start with http(s)://: {url!r}", 0)
    return url

"""Identity's aggregates, one per file, and their errors."""

from .api_token import ApiToken
from .email_claim import EmailClaim, email_claim_id
from .ids import normalise_email, parse_id
from .session import Session
from .user import User
from .workspace import Invitation, Member, Workspace

STREAM_TYPES = [Workspace, User, EmailClaim, Session, ApiToken]

__all__ = [
    "STREAM_TYPES",
    "ApiToken",
    "EmailClaim",
    "Invitation",
    "Member",
    "Session",
    "User",
    "Workspace",
    "email_claim_id",
    "normalise_email",
    "parse_id",
]

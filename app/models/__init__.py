"""All ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from app.models.base import Base, new_id, utcnow
from app.models.history import TransitionHistory
from app.models.idempotency import IdempotencyRecord
from app.models.identity import IntegrationClient, Membership, RefreshSession, RefreshToken, Role, User
from app.models.organisation import (
    CoordinationMember,
    Organisation,
    OrganisationClosure,
    OrganisationKind,
    OrganisationLevel,
)

__all__ = [
    "GENESIS_HASH", "AuditChainHead", "AuditEvent", "Base", "CoordinationMember", "IdempotencyRecord",
    "IntegrationClient", "Membership", "Organisation", "OrganisationClosure", "OrganisationKind",
    "OrganisationLevel", "RefreshSession", "RefreshToken", "Role", "TransitionHistory", "User",
    "new_id", "utcnow",
]

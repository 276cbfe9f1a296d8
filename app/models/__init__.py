"""All ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from app.models.base import Base, new_id, utcnow
from app.models.designation import Designation, DesignationKey
from app.models.duty_list import (
    DutyDomain,
    DutyList,
    DutyListStatus,
    ItemRelation,
    ResponsibilityItem,
    ResponsibilityItemOrganisation,
)
from app.models.finding import (
    ExtensionRequest,
    ExtensionStatus,
    Finding,
    FindingLink,
    FindingLookback,
    FindingParty,
    FindingPartyRole,
    FindingRelation,
    FindingStatus,
    LookbackOutcome,
    LookbackPerformer,
    Measure,
    MeasureStatus,
    ProgressUpdate,
    RectificationType,
)
from app.models.finding_import import FindingImportBatch
from app.models.history import TransitionHistory
from app.models.idempotency import IdempotencyRecord
from app.models.identity import IntegrationClient, Membership, RefreshSession, RefreshToken, Role, User
from app.models.inspection import (
    DispatchCadence,
    Inspection,
    InspectionCategory,
    InspectionKind,
    InspectionOrganisation,
)
from app.models.lead_decision import (
    DecisionLevel,
    LeadDecision,
    LeadDecisionItem,
    LeadDecisionOpinion,
    LeadDecisionParty,
    LeadDecisionStatus,
    OpinionStance,
    PartyRole,
)
from app.models.organisation import (
    CoordinationMember,
    Organisation,
    OrganisationClosure,
    OrganisationKind,
    OrganisationLevel,
)
from app.models.report import (
    RecipientKind,
    Report,
    ReportKind,
    ReportParty,
    ReportPartyRole,
    ReportStatus,
)

__all__ = [
    "GENESIS_HASH", "AuditChainHead", "AuditEvent", "Base", "CoordinationMember", "DecisionLevel", "Designation",
    "DesignationKey", "DispatchCadence", "DutyDomain", "DutyList", "DutyListStatus", "ExtensionRequest",
    "ExtensionStatus", "Finding", "FindingImportBatch", "FindingLink", "FindingLookback", "FindingParty", "FindingPartyRole",
    "FindingRelation", "FindingStatus", "IdempotencyRecord", "Inspection", "InspectionCategory", "InspectionKind",
    "InspectionOrganisation", "IntegrationClient",
    "ItemRelation", "LeadDecision", "LeadDecisionItem", "LeadDecisionOpinion", "LeadDecisionParty",
    "LeadDecisionStatus", "LookbackOutcome", "LookbackPerformer", "Measure", "MeasureStatus", "Membership",
    "OpinionStance", "Organisation", "OrganisationClosure", "OrganisationKind", "OrganisationLevel", "PartyRole",
    "ProgressUpdate", "RecipientKind", "RectificationType", "RefreshSession", "RefreshToken", "Report", "ReportKind",
    "ReportParty", "ReportPartyRole", "ReportStatus", "ResponsibilityItem",
    "ResponsibilityItemOrganisation", "Role", "TransitionHistory", "User", "new_id", "utcnow",
]

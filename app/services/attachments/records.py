"""The records files are attached to (findings, reports): who may read them, who may attach, when.

Reading follows the record: whoever may read the finding (app/services/findings/access.py) or
the report (app/services/reports/access.py) may list and download its files; out of scope → 404.

Attaching, linking and unlinking (DOMAIN.md roles: staff draft and the leader signs off for
their own organisation; the office is the secretariat that verifies and closes):
- a finding: `staff` or `leader` AT its responsible (主责) organisation — they give the evidence
  (000 §(十三), 001 一(三)) — or `office` AT its rectification office (its verification papers);
  not once it is closed (销号) or found unrectifiable (409 `record_closed`);
- a report: `staff` or `leader` AT a filing organisation, while the report is a draft (409
  `record_closed` once submitted: what was filed stays as filed).
Others who may read the record get 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.authz.scoping import in_scope
from app.core.errors import Conflict, PermissionDenied
from app.models import (
    Attachment,
    AttachmentPurpose,
    Finding,
    FindingAttachment,
    FindingStatus,
    Report,
    ReportAttachment,
    ReportParty,
    ReportPartyRole,
    ReportStatus,
    Role,
)
from app.schemas.attachments import AttachedTo
from app.services.findings import access as findings_access
from app.services.reports import access as reports_access

_FINDING_FINAL = (FindingStatus.closed, FindingStatus.unrectifiable)
_EVIDENCE_GIVERS = {Role.staff, Role.leader}


class RecordClosed(Conflict):
    code, title = "record_closed", "The record no longer takes attachments"


@dataclass(frozen=True)
class Record:
    """A finding or a report, as the attachment service sees it."""

    kind: AttachedTo
    id: uuid.UUID
    jurisdiction_id: uuid.UUID
    acting_organisation_id: uuid.UUID | None  # where the caller may attach (None: read only)
    link_model: type[FindingAttachment | ReportAttachment]
    default_purpose: AttachmentPurpose

    @property
    def link_column(self):  # type: ignore[no-untyped-def]
        return self.link_model.finding_id if self.kind == AttachedTo.finding else self.link_model.report_id

    def require_writer(self) -> uuid.UUID:
        if self.acting_organisation_id is None:
            raise PermissionDenied(_WRITERS[self.kind])
        return self.acting_organisation_id


_WRITERS = {AttachedTo.finding: "Only staff or the leader of the finding's responsible organisation, or its "
                                "rectification office, attach files to it.",
            AttachedTo.report: "Only staff or the leader of a filing organisation attach files to a report."}


async def finding_record(session: AsyncSession, principal: Principal, finding_id: uuid.UUID, *,
                         write: bool = False) -> Record:
    """404 when the caller may not read it; with `write`, 409 once closed or unrectifiable (after 403)."""
    finding = await findings_access.load_visible(session, principal, finding_id)
    acting = None
    if finding.responsible_organisation_id and _EVIDENCE_GIVERS & principal.roles_at(
            finding.responsible_organisation_id):
        acting = finding.responsible_organisation_id
    elif Role.office in principal.roles_at(finding.rectification_office_id):
        acting = finding.rectification_office_id
    record = Record(AttachedTo.finding, finding.id, finding.jurisdiction_id, acting, FindingAttachment,
                    AttachmentPurpose.evidence)
    if write:
        record.require_writer()
        if finding.status in _FINDING_FINAL:
            raise RecordClosed(f"The finding is {finding.status.value}; its files are kept as they are.")
    return record


async def report_record(session: AsyncSession, principal: Principal, report_id: uuid.UUID, *,
                        write: bool = False) -> Record:
    """404 when the caller may not read it; with `write`, 409 unless it is a draft (after 403)."""
    report = await reports_access.load_visible(session, principal, report_id)
    filers = (await session.scalars(select(ReportParty.organisation_id).where(
        ReportParty.report_id == report.id, ReportParty.role == ReportPartyRole.filer))).all()
    acting = next((o for o in filers if _EVIDENCE_GIVERS & principal.roles_at(o)), None)
    record = Record(AttachedTo.report, report.id, report.jurisdiction_id, acting, ReportAttachment,
                    AttachmentPurpose.annex)
    if write:
        record.require_writer()
        if report.status != ReportStatus.draft:
            raise RecordClosed(f"The report is {report.status.value}; files are attached while it is a draft.")
    return record


async def load_record(session: AsyncSession, principal: Principal, kind: AttachedTo, record_id: uuid.UUID, *,
                      write: bool = False) -> Record:
    loader = finding_record if kind == AttachedTo.finding else report_record
    return await loader(session, principal, record_id, write=write)


def attachment_visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause on `attachment`: linked to a finding or report the caller may read, or uploaded for an
    organisation in the caller's scope (so a file whose last link was removed stays with its uploaders)."""
    on_finding = exists(select(FindingAttachment.finding_id)
                        .join(Finding, Finding.id == FindingAttachment.finding_id)
                        .where(FindingAttachment.attachment_id == Attachment.id,
                               findings_access.visible(principal)))
    on_report = exists(select(ReportAttachment.report_id)
                       .join(Report, Report.id == ReportAttachment.report_id)
                       .where(ReportAttachment.attachment_id == Attachment.id, reports_access.visible(principal)))
    return or_(in_scope(Attachment.organisation_id, principal, Permission.findings_read), on_finding, on_report)

"""What an escalation is about: the findings, reports and duty-list versions it links (DOMAIN.md
"Escalations": "linked to zero or more findings, reports or duty lists").

A 督办 goes to a department whose annual duty report is late (000 §(十二): 每年1月底前报告上年度
职责履行情况); a 通报 names the bodies that have not published their duty list (002 §(十一) 视情采取
约谈、通报). Whoever issues one links only records they can read themselves (each kind's own
`visible`): anything else is a 422 `unknown_<kind>` at its pointer, so existence does not leak. A page's
links cost one statement per kind, whatever its length.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import FieldErrors
from app.models import (
    DutyList,
    Escalation,
    EscalationDutyList,
    EscalationFinding,
    EscalationReport,
    Finding,
    Report,
)
from app.schemas.escalations import EscalationCreate
from app.services.duty_lists import access as duty_lists_access
from app.services.findings import access as findings_access
from app.services.reports import access as reports_access


@dataclass
class Links:
    """The ids an escalation links, each list in request order with duplicates collapsed."""

    finding_ids: list[uuid.UUID] = field(default_factory=list)
    report_ids: list[uuid.UUID] = field(default_factory=list)
    duty_list_ids: list[uuid.UUID] = field(default_factory=list)

    def rows(self, escalation_id: uuid.UUID) -> list[EscalationFinding | EscalationReport | EscalationDutyList]:
        return [*(EscalationFinding(escalation_id=escalation_id, finding_id=i) for i in self.finding_ids),
                *(EscalationReport(escalation_id=escalation_id, report_id=i) for i in self.report_ids),
                *(EscalationDutyList(escalation_id=escalation_id, duty_list_id=i) for i in self.duty_list_ids)]

    def audit(self) -> dict[str, list[str]]:
        return {"finding_ids": [str(i) for i in self.finding_ids], "report_ids": [str(i) for i in self.report_ids],
                "duty_list_ids": [str(i) for i in self.duty_list_ids]}


async def _seen(session: AsyncSession, column, ids: list[uuid.UUID], visible: ColumnElement[bool]) -> set[uuid.UUID]:
    return set((await session.scalars(select(column).where(column.in_(ids), visible))).all())


async def check(session: AsyncSession, principal: Principal, body: EscalationCreate, errors: FieldErrors,
                finding_id: uuid.UUID | None = None) -> Links:
    """The links of a new escalation; each id the caller cannot read adds a field error at its index.
    `finding_id` (the `/findings/{id}/escalations` sub-collection) was checked by the caller (404)."""
    links = Links(finding_ids=list(dict.fromkeys([*([finding_id] if finding_id else []), *body.finding_ids])),
                  report_ids=list(dict.fromkeys(body.report_ids)),
                  duty_list_ids=list(dict.fromkeys(body.duty_list_ids)))
    checks = (
        ("finding", body.finding_ids, Finding.id, links.finding_ids, findings_access.visible(principal)),
        ("report", body.report_ids, Report.id, links.report_ids, reports_access.visible(principal)),
        ("duty_list", body.duty_list_ids, DutyList.id, links.duty_list_ids,
         await duty_lists_access.visible(session, principal) if links.duty_list_ids else None),
    )
    for kind, given, column, wanted, visible in checks:
        seen = await _seen(session, column, wanted, visible) if wanted else set()
        for i, record_id in enumerate(given):
            if record_id not in seen:
                errors.add(f"/{kind}_ids/{i}", f"unknown_{kind}", f"not a {kind.replace('_', ' ')} you can see")
    return links


async def links_of(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Links]:
    """The links of these escalations: one statement per kind, ids sorted within each."""
    out = {i: Links() for i in ids}
    if not ids:
        return out
    for model, column, attr in ((EscalationFinding, EscalationFinding.finding_id, "finding_ids"),
                                (EscalationReport, EscalationReport.report_id, "report_ids"),
                                (EscalationDutyList, EscalationDutyList.duty_list_id, "duty_list_ids")):
        rows = await session.execute(select(model.escalation_id, column).where(model.escalation_id.in_(ids))
                                     .order_by(model.escalation_id, column))
        for escalation_id, record_id in rows.all():
            getattr(out[escalation_id], attr).append(record_id)
    return out


async def filter_by(session: AsyncSession, principal: Principal, stmt: Select, *,
                    finding_ids: set[uuid.UUID], report_id: uuid.UUID | None,
                    duty_list_id: uuid.UUID | None) -> Select:
    """Narrow a page to escalations linked to these records. A report or duty list filtered on must be
    one the caller reads (404 `No such report.` / `No such duty list.` otherwise)."""
    for fid in finding_ids:
        stmt = stmt.where(exists().where(EscalationFinding.escalation_id == Escalation.id,
                                         EscalationFinding.finding_id == fid))
    if report_id is not None:
        await reports_access.load_visible(session, principal, report_id)
        stmt = stmt.where(exists().where(EscalationReport.escalation_id == Escalation.id,
                                         EscalationReport.report_id == report_id))
    if duty_list_id is not None:
        await duty_lists_access.load_visible(session, principal, duty_list_id)
        stmt = stmt.where(exists().where(EscalationDutyList.escalation_id == Escalation.id,
                                         EscalationDutyList.duty_list_id == duty_list_id))
    return stmt

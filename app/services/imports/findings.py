"""Importing findings of one inspection from a spreadsheet, each registered (`registered`).

Who: as for registering one finding (app/services/findings/commands.py): inspectors AT the
inspection's inspecting body or the office AT its rectification office (403 others); an
inspection the caller cannot see is 404 (here it is the path, not a body reference). Checked
once, before any row is read.

Each row becomes a `FindingCreate` for this inspection and goes through
`commands.register_finding`: the same rules (a category of the inspection, a code unique in the
campaign, 409 `finding_code_exists` reported as that row's error) and the same audit row
(`finding.create`). Registering emits no domain event (app/services/events.py: findings emit on
assignment and closure), so neither does an import. The category cell names a category of the
inspection by its code (`(一)`) or its title. The batch is a `finding_import_batch` (as the JSON
ledger import's, `GET /imports/finding-ledgers/{id}` shows it to admins), filed at the
rectification office; every finding created carries its id.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import NotFound, PermissionDenied
from app.models import Finding, FindingImportBatch, Inspection, InspectionCategory, RectificationType, new_id
from app.schemas.findings import FindingCreate
from app.schemas.sheet_imports import ImportMode, SheetImportRead
from app.services import audit
from app.services.export.columns import FINDINGS
from app.services.findings import commands
from app.services.imports.columns import ImportColumn, from_export
from app.services.imports.runner import Kind, Row, Run, run_import
from app.services.imports.sheets import read_sheet
from app.services.inspections import access as inspections_access

RESOURCE = "finding_import_batch"

COLUMNS: tuple[ImportColumn, ...] = (
    from_export(FINDINGS, "code", example_zh="1-1-1", example_en="1-1-1", note="unique in the inspection"),
    from_export(FINDINGS, "title", required=True, example_zh="夯实习近平生态文明思想不够",
                example_en="Not enough grounding in the thinking on ecological civilisation",
                note="at most 300 characters"),
    ImportColumn("description", "Description", "问题描述", example_zh="督察反馈指出……", example_en="As fed back",
                 note="at most 10000 characters"),
    from_export(FINDINGS, "category", example_zh="(一)", example_en="(一)",
                note="a category of the inspection, by its code or title"),
    from_export(FINDINGS, "rectification_type", kind="enum", enum_type=RectificationType, example_zh="限期整改",
                example_en="time_limited", note="default time_limited (限期整改)"),
    from_export(FINDINGS, "deadline", kind="date", example_zh="2026-06-30", example_en="2026-06-30",
                note="YYYY-MM-DD; else set on assignment"),
    from_export(FINDINGS, "key_problem", kind="bool", example_zh="否", example_en="false", note="是/否; default 否"),
    ImportColumn("key_problem_handler", "Key problem handler", "专人办理", example_zh="", example_en="",
                 note="the dedicated handler of a key problem"),
)
KIND = Kind(COLUMNS, FINDINGS, pointers={
    "code": "code", "title": "title", "description": "description", "category_id": "category",
    "rectification_type": "rectification_type", "deadline": "deadline", "key_problem": "key_problem",
    "key_problem_handler": "key_problem_handler"}, conflicts={"finding_code_exists": "code"})


async def _categories(session: AsyncSession, inspection_id: uuid.UUID) -> dict[str, list[uuid.UUID]]:
    found: dict[str, list[uuid.UUID]] = {}
    for cat_id, code, title in (await session.execute(select(
            InspectionCategory.id, InspectionCategory.code, InspectionCategory.title).where(
            InspectionCategory.inspection_id == inspection_id))).all():
        for name in {code, title} - {None}:
            found.setdefault(name, []).append(cat_id)
    return found


async def import_findings(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID, data: bytes, *,
                          file_name: str | None, mode: ImportMode, dry_run: bool) -> SheetImportRead:
    """Register a spreadsheet of findings in an inspection: its registrars (403), the inspection visible
    (404); row errors as described in runner.py."""
    inspection = await session.scalar(select(Inspection).where(Inspection.id == inspection_id,
                                                               inspections_access.visible(principal)))
    if inspection is None:
        raise NotFound("No such inspection.")
    if not inspections_access.can_register(principal, inspection.inspecting_body_id,
                                           inspection.rectification_office_id):
        raise PermissionDenied("Only inspectors of the inspecting body or the rectification office register "
                               "findings.")
    # Plain values: a row's savepoint rollback may expire ORM objects, and a lazy load is an error here.
    target, jurisdiction_id, office_id = inspection.id, inspection.jurisdiction_id, inspection.rectification_office_id
    sheet = read_sheet(data)  # after the access checks: a 404/403 never depends on the file
    run = Run(sheet, KIND)
    batch_id = new_id()
    rows = run.read_rows()
    categories = await _categories(session, target) if any("category" in r.values for r in rows) else {}

    def build(row: Row) -> FindingCreate | None:
        fields = {k: v for k, v in row.values.items() if k != "category"}
        if "category" in row.values:
            matches = categories.get(row.values["category"], [])
            if len(matches) != 1:
                run.error(row.number, "category", "ambiguous_category" if matches else "unknown_category",
                          "several categories have this title; use the code" if matches else
                          "not a category of the inspection (its code or title)")
                return None
            fields["category_id"] = matches[0]
        return FindingCreate.model_validate({"inspection_id": target, **fields})

    async def create(row: Row, body: FindingCreate) -> uuid.UUID:
        return (await commands.register_finding(session, principal, body)).id

    async def finish(read: SheetImportRead) -> None:
        ids = [r.id for r in read.imported]
        rejected = len({e.row for e in run.errors})
        session.add(FindingImportBatch(
            id=batch_id, inspection_id=target, jurisdiction_id=jurisdiction_id, organisation_id=office_id,
            source=(file_name or "")[:500] or None, counts={"findings": len(ids), "rejected_rows": rejected},
            report=read.model_dump(mode="json"), created_by_id=str(principal.id), created_by_name=principal.name))
        await session.flush()
        await session.execute(update(Finding).where(Finding.id.in_(ids)).values(import_batch_id=batch_id)
                              .execution_options(synchronize_session=False))
        audit.record(session, action=f"{RESOURCE}.create", resource_type=RESOURCE, resource_id=batch_id,
                     organisation_id=office_id,
                     after={"inspection_id": target, "source": file_name, "format": sheet.format,
                            "mode": mode.value, "findings": len(ids), "rejected_rows": rejected})

    return await run_import(session, run, rows, build, create, finish, batch_id=batch_id, mode=mode,
                            dry_run=dry_run)


async def get_import(session: AsyncSession, principal: Principal, inspection_id: uuid.UUID,
                     batch_id: uuid.UUID) -> SheetImportRead:
    """A spreadsheet import's answer again, row errors included: whoever may read the inspection (404
    otherwise), 404 also for a batch of another inspection, a JSON ledger import (its reader is
    `GET /imports/finding-ledgers/{id}`) and one imported before its answer was kept (0013)."""
    await inspections_access.load_visible(session, principal, inspection_id)
    report = await session.scalar(select(FindingImportBatch.report).where(
        FindingImportBatch.id == batch_id, FindingImportBatch.inspection_id == inspection_id))
    if report is None:
        raise NotFound("No such spreadsheet import of this inspection.")
    return SheetImportRead.model_validate(report)

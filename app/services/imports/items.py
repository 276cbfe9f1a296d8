"""Importing responsibility items from a spreadsheet into one draft or returned duty-list version.

Who and when: as for adding one item (app/services/duty_lists/items.py): staff of the list's
organisation, while the version is draft or returned (403 / 409 `duty_list_not_editable`), a
version the caller cannot read is 404. Checked once, before any row is read.

Each row becomes a `ResponsibilityItemCreate` and goes through `items.create_item`, so the rules
are the single-create route's (lead and cooperating organisations active and of the list's
province, not both lead and cooperating, …) and so is the audit row
(`responsibility_item.create`). Organisation cells name organisations by short code or by name,
looked up in the list's province: a lead may be a sibling department outside the caller's own
scope (that is the rule for one item too). A name two organisations of the province share is
`ambiguous_organisation` (use the short code). Decomposition units are looked up the same way
among the active units below the list's organisation (`unknown_unit` / `ambiguous_unit`).
Adding an item emits no domain event (app/services/events.py has none for items), so neither
does an import. The batch
(`duty_list_import_batch`) is filed at the list's organisation and every item created carries
its id.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import NotFound
from app.models import (
    DutyDomain,
    DutyList,
    DutyListImportBatch,
    Organisation,
    OrganisationClosure,
    ResponsibilityItem,
    new_id,
)
from app.schemas.responsibility_items import ResponsibilityItemCreate
from app.schemas.sheet_imports import ImportMode, SheetImportRead
from app.services import audit
from app.services.duty_lists import access
from app.services.duty_lists import items as item_service
from app.services.duty_lists.commands import require_editable, require_staff
from app.services.export.columns import RESPONSIBILITY_ITEMS
from app.services.imports.columns import ImportColumn, from_export
from app.services.imports.runner import Kind, Row, Run, run_import
from app.services.imports.sheets import read_sheet

RESOURCE = "duty_list_import_batch"
_ORG_NOTE = "names or short codes, separated by ；"

COLUMNS: tuple[ImportColumn, ...] = (
    from_export(RESPONSIBILITY_ITEMS, "position", kind="int", example_zh="1", example_en="1",
                note="place in the list; after the last item when empty"),
    from_export(RESPONSIBILITY_ITEMS, "code", example_zh="3.2", example_en="3.2", note="the list's own numbering"),
    from_export(RESPONSIBILITY_ITEMS, "title", required=True, example_zh="组织开展入河排污口排查整治",
                example_en="Survey and clean up sewage outfalls into rivers", note="at most 300 characters"),
    from_export(RESPONSIBILITY_ITEMS, "domain", kind="enum", required=True, enum_type=DutyDomain,
                example_zh="水生态环境", example_en="water", note="a duty_domain code or label (GET /meta/enums)"),
    from_export(RESPONSIBILITY_ITEMS, "description", example_zh="按照《入河排污口监督管理办法》组织排查",
                example_en="As the outfall supervision rules require", note="at most 4000 characters"),
    from_export(RESPONSIBILITY_ITEMS, "basis", kind="basis",
                example_zh="【“三定”方案/规定】《海南省生态环境厅职能配置、内设机构和人员编制规定》（琼办发〔2020〕68号）第三条",
                example_en="【sanding】《海南省生态环境厅职能配置、内设机构和人员编制规定》（琼办发〔2020〕68号）第三条",
                note="【kind】《title》（number）clause, separated by ；; kind a basis_kind code or label, "
                     "number and clause optional"),
    from_export(RESPONSIBILITY_ITEMS, "lead_organisations", kind="names", example_zh="海南省水务厅",
                example_en="HN-WATER", note=_ORG_NOTE + "; active, of the list's province"),
    from_export(RESPONSIBILITY_ITEMS, "cooperating_organisations", kind="names", example_zh="",
                example_en="", note=_ORG_NOTE + "; none of them a lead"),
    from_export(RESPONSIBILITY_ITEMS, "decomposition", kind="decomposition", example_zh="水生态环境处（王五）：牵头排查整治",
                example_en="水生态环境处（王五）：牵头排查整治",
                note="unit（responsible person）：task, separated by ；; a unit below the list's organisation, "
                     "by name or short code; person and task optional"),
    from_export(RESPONSIBILITY_ITEMS, "complaint_channels", kind="channels",
                example_zh="生态环境举报热线: 12369", example_en="Hotline: 12369",
                note="`label: value` or `value`, separated by ；; web, e-mail or phone only (read from the value)"),
)
KIND = Kind(COLUMNS, RESPONSIBILITY_ITEMS, pointers={
    "position": "position", "code": "code", "title": "title", "domain": "domain", "description": "description",
    "lead_organisation_ids": "lead_organisations", "first_lead_organisation_id": "lead_organisations",
    "cooperating_organisation_ids": "cooperating_organisations", "complaint_channels": "complaint_channels",
    "basis": "basis", "decomposition": "decomposition"})
_ORG_FIELDS = {"lead_organisations": "lead_organisation_ids", "cooperating_organisations": "cooperating_organisation_ids"}


async def _organisations(session: AsyncSession, jurisdiction_id: uuid.UUID, rows: list[Row]
                         ) -> dict[str, list[uuid.UUID]]:
    """Every name or short code the file mentions → the province's organisations it matches."""
    wanted = {n for r in rows for key in _ORG_FIELDS for n in r.values.get(key, [])}
    if not wanted:
        return {}
    return _by_name_or_code((await session.execute(
        select(Organisation.id, Organisation.name, Organisation.short_code).where(
            Organisation.jurisdiction_id == jurisdiction_id,
            or_(Organisation.name.in_(wanted), Organisation.short_code.in_(wanted))))).all())


def _by_name_or_code(rows: Any) -> dict[str, list[uuid.UUID]]:
    """(id, name, short code) rows → what a cell may call each by: its short code (unique, so it
    wins over a name) or its name (several organisations may share one: `ambiguous_…`)."""
    found: dict[str, list[uuid.UUID]] = {}
    for org_id, name, short_code in rows:
        if short_code:
            found[short_code] = [org_id]
        if found.get(name) != [org_id]:
            found.setdefault(name, []).append(org_id)
    return found


# A decomposition cell's unit text that ends in brackets: a unit name, or a unit and its person.
_UNIT_AND_PERSON = re.compile(r"(?P<unit>.+?)（(?P<person>[^（）]+)）")


async def _units(session: AsyncSession, organisation_id: uuid.UUID) -> dict[str, list[uuid.UUID]]:
    """Name or short code → the active units below the list's organisation (its 处室 and 直属单位),
    the units a decomposition row may name (app/services/duty_lists/items.py checks the same)."""
    return _by_name_or_code((await session.execute(
        select(Organisation.id, Organisation.name, Organisation.short_code)
        .join(OrganisationClosure, OrganisationClosure.descendant_id == Organisation.id)
        .where(OrganisationClosure.ancestor_id == organisation_id, OrganisationClosure.depth > 0,
               Organisation.is_active.is_(True)))).all())


def _decomposition_row(units: dict[str, list[uuid.UUID]], unit_text: str, task: str | None
                       ) -> tuple[dict[str, Any] | None, str, str]:
    """({unit_id, responsible_person, task}, "", "") or (None, error code, detail). The whole text is
    tried as a unit first, so a unit whose own name ends in （…） is not read as a person."""
    candidates = [(unit_text, None)]
    match = _UNIT_AND_PERSON.fullmatch(unit_text)
    if match:
        candidates.append((match["unit"].strip(), match["person"].strip()))
    for unit, person in candidates:
        matches = units.get(unit, [])
        if len(matches) == 1:
            return {"unit_id": matches[0], "responsible_person": person, "task": task}, "", ""
        if matches:
            return None, "ambiguous_unit", (f"{unit}: several units below the list's organisation have this "
                                            "name; use its short code")
    return None, "unknown_unit", (f"{unit_text}: no active unit below the list's organisation has this name or "
                                  "short code (a ； inside a task starts a new row: write ， instead)")


async def import_items(session: AsyncSession, principal: Principal, list_id: uuid.UUID, data: bytes, *,
                       file_name: str | None, mode: ImportMode, dry_run: bool) -> SheetImportRead:
    """Import a spreadsheet of items into a draft or returned version: staff of the list's organisation
    (403), the version readable (404) and editable (409); row errors as described in runner.py."""
    dl: DutyList = await access.load_visible(session, principal, list_id)
    require_staff(principal, dl)
    require_editable(dl)
    # Plain values: a row's savepoint rollback may expire ORM objects, and a lazy load is an error here.
    list_id, jurisdiction_id, organisation_id = dl.id, dl.jurisdiction_id, dl.organisation_id
    sheet = read_sheet(data)  # after the access checks: a 404/403/409 never depends on the file
    run = Run(sheet, KIND)
    batch_id = new_id()
    rows = run.read_rows()
    resolved = await _organisations(session, jurisdiction_id, rows)
    units = await _units(session, organisation_id) if any("decomposition" in r.values for r in rows) else {}

    def build(row: Row) -> ResponsibilityItemCreate | None:
        fields = {k: v for k, v in row.values.items() if k not in _ORG_FIELDS}
        ok = True
        for key, target in _ORG_FIELDS.items():
            ids = []
            for name in row.values.get(key, []):
                matches = resolved.get(name, [])
                if len(matches) != 1:
                    ok = False
                    run.error(row.number, key, "ambiguous_organisation" if matches else "unknown_organisation",
                              f"{name}: " + ("several organisations of this province have this name; use its "
                                             "short code" if matches else
                                             "no organisation of this province has this name or short code"))
                else:
                    ids.append(matches[0])
            if ids:
                fields[target] = ids
        if "decomposition" in fields:
            decomposition = []
            for entry in fields["decomposition"]:
                resolved_row, code, detail = _decomposition_row(units, entry["unit"], entry["task"])
                if resolved_row is None:
                    ok = False
                    run.error(row.number, "decomposition", code, detail)
                else:
                    decomposition.append(resolved_row)
            fields["decomposition"] = decomposition
        return ResponsibilityItemCreate.model_validate(fields) if ok else None

    async def create(row: Row, body: ResponsibilityItemCreate) -> uuid.UUID:
        return (await item_service.create_item(session, principal, list_id, body)).id

    async def finish(read: SheetImportRead) -> None:
        ids = [r.id for r in read.imported]
        session.add(DutyListImportBatch(
            id=batch_id, duty_list_id=list_id, jurisdiction_id=jurisdiction_id, organisation_id=organisation_id,
            source=(file_name or "")[:500] or None, counts={"items": len(ids), "rejected_rows": len(
                {e.row for e in run.errors})}, report=read.model_dump(mode="json"), created_by_id=str(principal.id),
            created_by_name=principal.name))
        await session.flush()
        await session.execute(update(ResponsibilityItem).where(ResponsibilityItem.id.in_(ids))
                              .values(import_batch_id=batch_id).execution_options(synchronize_session=False))
        audit.record(session, action=f"{RESOURCE}.create", resource_type=RESOURCE, resource_id=batch_id,
                     organisation_id=organisation_id,
                     after={"duty_list_id": list_id, "source": file_name, "mode": mode.value, "items": len(ids),
                            "rejected_rows": len({e.row for e in run.errors})})

    return await run_import(session, run, rows, build, create, finish, batch_id=batch_id, mode=mode,
                            dry_run=dry_run)



async def get_import(session: AsyncSession, principal: Principal, list_id: uuid.UUID,
                     batch_id: uuid.UUID) -> SheetImportRead:
    """An import's answer again, row errors included: whoever may read the version (404 otherwise),
    404 also for a batch of another version and for one imported before its answer was kept (0013)."""
    await access.load_visible(session, principal, list_id)
    report = await session.scalar(select(DutyListImportBatch.report).where(
        DutyListImportBatch.id == batch_id, DutyListImportBatch.duty_list_id == list_id))
    if report is None:
        raise NotFound("No such import of this duty list.")
    return SheetImportRead.model_validate(report)

"""Evidence references that name uploaded files (`kind: attachment`, `reference`: the attachment id).

A step that carries evidence (request_closure, declare_unrectifiable, a measure's complete and
declare_cannot_complete) may cite files; each cited file must be attached to that finding, so
"evidence required to request closure" (DOMAIN.md) can be proved with a real file. Other kinds
(a document number, a published page) are taken as given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldErrors
from app.models import Finding, FindingAttachment, Measure

ATTACHMENT = "attachment"


def _kind(entry: Any) -> str:
    kind = entry.get("kind") if isinstance(entry, dict) else getattr(entry, "kind", None)
    return str(getattr(kind, "value", kind))


def _reference(entry: Any) -> str:
    return str(entry.get("reference") if isinstance(entry, dict) else getattr(entry, "reference", ""))


async def check_evidence(session: AsyncSession, errors: FieldErrors, finding_id: uuid.UUID,
                         evidence: Sequence[Any], pointer: str = "/evidence") -> None:
    """422 entries (collected in `errors`) citing a file that is not attached to the finding."""
    cited: dict[int, uuid.UUID | None] = {}
    for i, entry in enumerate(evidence):
        if _kind(entry) != ATTACHMENT:
            continue
        try:
            cited[i] = uuid.UUID(_reference(entry))
        except ValueError:
            cited[i] = None
    if not cited:
        return
    ids = {a for a in cited.values() if a is not None}
    attached = set((await session.scalars(select(FindingAttachment.attachment_id).where(
        FindingAttachment.finding_id == finding_id, FindingAttachment.attachment_id.in_(ids))))
        .all()) if ids else set()
    for i, attachment_id in cited.items():
        if attachment_id not in attached:
            errors.add(f"{pointer}/{i}/reference", "unknown_attachment",
                       "cite the id of a file attached to this finding (POST /findings/{id}/attachments)")


def _ids(evidence: Sequence[Any] | None) -> set[uuid.UUID]:
    out = set()
    for entry in evidence or ():
        if _kind(entry) == ATTACHMENT:
            try:
                out.add(uuid.UUID(_reference(entry)))
            except ValueError:
                continue
    return out


async def cited_attachment_ids(session: AsyncSession, finding_id: uuid.UUID) -> set[uuid.UUID]:
    """Files the finding or its measures cite as evidence (they cannot be unlinked)."""
    row = (await session.execute(select(Finding.closure_evidence, Finding.unrectifiable_evidence)
                                 .where(Finding.id == finding_id))).first()
    cited = _ids(row[0]) | _ids(row[1]) if row else set()
    for evidence in (await session.scalars(select(Measure.evidence).where(Measure.finding_id == finding_id))).all():
        cited |= _ids(evidence)
    return cited

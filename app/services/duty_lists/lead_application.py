"""Applying an approved lead-department decision to the responsibility items it settles.

DOMAIN.md "Lead-department decisions": on approval the linked items take the decided
lead org, in a new list version where the list is already published (the published
version stays public until the revision is published).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal


async def apply_decided_lead(session: AsyncSession, principal: Principal, *, decision_id: uuid.UUID,
                             lineage_ids: Sequence[uuid.UUID], lead_ids: Sequence[uuid.UUID],
                             first_lead_id: uuid.UUID | None,
                             cooperating_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Give every item of the given lineages the decided lead and cooperating organisations.

    For each lineage, the item in its organisation's open version (draft … approved) is changed;
    when the list has no open version, a revision of the published version is opened first
    (a new draft, items copied) and its copy is changed. Each changed item records
    `lead_decision_id`, is audited, and its version goes up. Returns the ids of the changed items.
    Called by the lead-decision service inside the approving request's transaction. Never commits.
    """
    raise NotImplementedError("implemented with the duty-list commands")

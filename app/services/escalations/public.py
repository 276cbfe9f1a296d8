"""Published escalations, for anyone: summonses and circulars issued as public (公开约谈, 公开通报).

Only `public` summonses and circulars that were issued (replied counts for nothing here: only urges
are replied to) appear; proposals, rejections, internal ones and every other kind never do. Ordered by
issue time, keyset-paged. Named persons are left out: the public record names the organisations. So are
the links (findings, reports, duty lists: app/services/escalations/links.py): a 通报 on bodies that have
not published their duty list links those unpublished drafts, which the public must not learn of.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Escalation, EscalationKind, EscalationPartyRole, EscalationStatus
from app.schemas.escalations import PublicEscalationFilter, PublicEscalationPage, PublicEscalationRead
from app.services.escalations import access
from app.services.inspections.access import briefs
from app.services.paging import keyset_page

PUBLISHABLE = (EscalationKind.summons, EscalationKind.circular)


async def list_published(session: AsyncSession, f: PublicEscalationFilter, *, limit: int,
                         cursor: str | None) -> PublicEscalationPage:
    stmt = select(Escalation).where(Escalation.public.is_(True), Escalation.status == EscalationStatus.issued,
                                    Escalation.kind.in_(PUBLISHABLE), Escalation.issued_at.is_not(None))
    if f.jurisdiction_id is not None:
        stmt = stmt.where(Escalation.jurisdiction_id == f.jurisdiction_id)
    if f.kind is not None:
        stmt = stmt.where(Escalation.kind == f.kind)
    rows, next_cursor, _ = await keyset_page(
        session, stmt, keys=(Escalation.issued_at, Escalation.id), kinds=("ts", "id"), scope="public_escalations",
        limit=limit, cursor=cursor, include_total=False, key_values=lambda r: (r[0].issued_at, r[0].id))
    found = [r[0] for r in rows]
    parties = await access.parties_of(session, [e.id for e in found])
    names = await briefs(session, {*(e.issuing_organisation_id for e in found),
                                   *(o for e in found for o in parties[e.id].get(EscalationPartyRole.addressee, []))})
    return PublicEscalationPage(items=[PublicEscalationRead(
        id=e.id, jurisdiction_id=e.jurisdiction_id, kind=e.kind, title=e.title, content=e.content,
        issuing_organisation=names[e.issuing_organisation_id],
        addressee_organisations=[names[o] for o in parties[e.id].get(EscalationPartyRole.addressee, [])],
        summons_form=e.summons_form, issued_at=e.issued_at) for e in found], next_cursor=next_cursor)

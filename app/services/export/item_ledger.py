"""The 具体事项清单 ledger (`/responsibility-items`) rendered by PostgreSQL (see export/sql.py).

Each column says in SQL what `columns.RESPONSIBILITY_ITEMS` + `Renderer` + the writer say in
Python, for the plain rows of `item_queries.list_item_rows`:
- enums: the zh label from `LABELS` (headers=zh) or the code;
- organisation names joined with "；" in their stored order; basis, decomposition and complaint
  channels from their JSON arrays, each entry as `columns.basis_entry`, `decomposition_entry`,
  `_channels` write it;
- `updated_at` in the jurisdiction's zone (Asia/Shanghai), to the second;
- CSV: a text cell starting with = + - @ TAB or CR gets a leading apostrophe (OWASP CSV injection,
  as `core.export.neutralise`), an empty one is NULL (so COPY writes nothing, as Python does).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Select, Text, Uuid, case, cast, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.calendar import DEFAULT_TIMEZONE
from app.core.export import FORMULA_START
from app.models import (
    DutyList,
    ItemRelation,
    Organisation,
    ResponsibilityItem,
    ResponsibilityItemOrganisation,
)
from app.models.duty_list import DutyDomain, DutyListStatus
from app.profiles.schema import BasisKind
from app.schemas.enums import LABELS
from app.schemas.responsibility_items import ResponsibilityItemFilter
from app.services.duty_lists.item_queries import _filtered  # the list's own statement: filters and scope
from app.services.export import ExportSpec, Language
from app.services.export.sql import SqlLedger

I, D, O, R = ResponsibilityItem, DutyList, Organisation, ResponsibilityItemOrganisation
SEP, EMPTY = literal_column("'；'"), literal_column("''")
# The first characters `core.export.neutralise` guards against, as code points: `ascii(cell)` (the first
# character's) is an integer test where `left(cell, 1)` would build a text per cell (~8% of a page).
_FORMULA_FIRST = sorted(ord(c) for c in FORMULA_START)
APOSTROPHE = literal_column("''''")

# How a cell is finished: text (None stays None), joined text (never None in Python: "" when
# there is nothing to join), a number, a datetime.
TEXT, JOINED, NUMBER, INSTANT = "text", "joined", "number", "instant"


def _label(column: Any, enum_cls: type[enum.Enum], lang: Language) -> Any:
    code = cast(column, Text)
    labels = LABELS.get(enum_cls)
    if lang == "en" or not labels:
        return code
    return case({value: zh for value, (zh, _en) in labels.items()}, value=column, else_=code)


def _field(element: Any, key: str) -> Any:
    return element.c.value.op("->>", return_type=Text)(literal_column(f"'{key}'"))


def _nonempty(value: Any) -> Any:
    """Python's `if p`: a missing or empty part is skipped by concat_ws."""
    return func.nullif(value, EMPTY)


def _elements(column: Any) -> Any:
    return func.json_array_elements(column).table_valued("value", with_ordinality="n").render_derived()


def _unless_empty(column: Any, joined: Any) -> Any:
    """Most items hold `[]`: skip the subquery for them (Python's `_json_list` does the same)."""
    return case((cast(column, Text) == literal_column("'[]'"), None), else_=joined)


def _wrapped(open_mark: str, value: Any, close_mark: str) -> Any:
    """`open value close` when the part is there (Python's `if p`), else NULL, which concat skips."""
    return case((_nonempty(value).is_not(None),
                 literal_column(f"'{open_mark}'").concat(value).concat(literal_column(f"'{close_mark}'"))))


def _basis_per_text(page: Any, lang: Language) -> Any:
    """Basis cells of the page, rendered once per distinct basis text (most items of a list cite the
    same 三定 document): joined back on the text, it costs a hash probe per row, not a subquery.
    Each source as `columns.basis_entry`: 【kind】《title》（number）clause."""
    texts = select(page.c.basis_text.label("t")).distinct().subquery("basis_texts")
    b = func.json_array_elements(cast(texts.c.t, JSON)).table_valued("value", with_ordinality="n").render_derived()
    part = func.concat(_wrapped("【", _label(_field(b, "kind"), BasisKind, lang), "】"),
                       _wrapped("《", _field(b, "title"), "》"), _wrapped("（", _field(b, "number"), "）"),
                       _field(b, "clause"))
    return (select(texts.c.t, func.string_agg(part, aggregate_order_by(SEP, b.c.n)).label("cell"))
            .select_from(texts.join(b, true())).group_by(texts.c.t).subquery("basis_cells"))


def _decomposition(column: Any) -> Any:
    """Each row as `columns.decomposition_entry`: unit（responsible person）：task."""
    d = _elements(column)
    unit = O.__table__.alias("unit")
    part = func.concat(unit.c.name, _wrapped("（", _field(d, "responsible_person"), "）"),
                       _wrapped("：", _field(d, "task"), ""))
    return _unless_empty(column, select(func.string_agg(part, aggregate_order_by(SEP, d.c.n)))
                         .select_from(d.outerjoin(unit, unit.c.id == cast(_field(d, "unit_id"), Uuid)))
                         .scalar_subquery())


def _channels(column: Any) -> Any:
    c = _elements(column)
    label, value = _field(c, "label"), _field(c, "value")
    part = case((_nonempty(label).is_not(None), label.concat(literal_column("': '")).concat(value)), else_=value)
    return _unless_empty(column, select(func.string_agg(part, aggregate_order_by(SEP, c.c.n)))
                         .select_from(c).scalar_subquery())


def _related(page: Any) -> Any:
    """Lead and cooperating names of the page's items: one GROUP BY over the page, not a subquery per row."""
    def names(relation: ItemRelation) -> Any:
        return func.string_agg(O.name, aggregate_order_by(SEP, R.position)).filter(R.relation == relation)

    return (select(R.item_id, names(ItemRelation.lead).label("leads"),
                   names(ItemRelation.cooperating).label("cooperating"))
            .select_from(page.join(R, R.item_id == page.c.id).join(O, O.id == R.organisation_id))
            .group_by(R.item_id).subquery("related"))


def _cells(lang: Language, page: Any, owner: Any, related: Any, basis: Any) -> dict[str, tuple[Any, str]]:
    """Column key → (raw SQL value, how it is finished), for every key of the spec."""
    p = page.c
    return {
        "id": (cast(p.id, Text), TEXT),
        "organisation": (owner.c.name, TEXT),
        "duty_list_status": (_label(p.duty_list_status, DutyListStatus, lang), TEXT),
        "position": (p.position, NUMBER),
        "code": (p.code, TEXT),
        "title": (p.title, TEXT),
        "domain": (_label(p.domain, DutyDomain, lang), TEXT),
        "description": (p.description, TEXT),
        "basis": (basis.c.cell, JOINED),
        "lead_organisations": (related.c.leads, JOINED),
        "cooperating_organisations": (related.c.cooperating, JOINED),
        "decomposition": (_decomposition(p.decomposition), JOINED),
        "complaint_channels": (_channels(p.complaint_channels), JOINED),
        "updated_at": (func.timezone(DEFAULT_TIMEZONE, p.updated_at), INSTANT),
    }


def _finish(value: Any, kind: str, csv: bool) -> Any:
    if kind == NUMBER:
        return value
    if kind == INSTANT:  # Renderer: in the zone, microseconds dropped; the CSV writer: %Y-%m-%d %H:%M:%S
        return func.to_char(value, "YYYY-MM-DD HH24:MI:SS") if csv else func.date_trunc("second", value)
    if not csv:
        return func.coalesce(value, EMPTY) if kind == JOINED else value
    neutral = case((func.ascii(value).in_(_FORMULA_FIRST), APOSTROPHE.concat(value)), else_=value)
    return func.nullif(neutral, EMPTY)


def _page_columns() -> tuple[Any, ...]:
    """What a page carries from the list's statement (its sort keys first), so rendering it reads
    neither table again."""
    return (I.created_at, I.id, I.organisation_id, D.status.label("duty_list_status"), I.position, I.code,
            I.title, I.domain, I.description, cast(I.basis, Text).label("basis_text"), I.decomposition,
            I.complaint_channels, I.updated_at)


def renderer(spec: ExportSpec, lang: Language) -> Callable[[Any, bool], Select[Any]]:
    keys = [c.key for c in spec.columns]
    owner = O.__table__.alias("owner")
    sample = select(*_page_columns()).cte("page")
    missing = set(keys) - set(_cells(lang, sample, owner, _related(sample), _basis_per_text(sample, lang)))
    if missing:  # a column added to the spec must be added here too, or the two paths would differ
        raise LookupError(f"no SQL for ledger columns {sorted(missing)}")

    def render(page: Any, csv: bool) -> Select[Any]:
        related, basis = _related(page), _basis_per_text(page, lang)
        cells = _cells(lang, page, owner, related, basis)
        # Raw values in an inner SELECT that PostgreSQL may not inline (OFFSET 0), so the finishing
        # CASE, which names a value three times, does not run a cell's subquery three times.
        inner = (select(page.c.created_at, page.c.id.label("key_id"),
                        *(cells[k][0].label(f"c{n}") for n, k in enumerate(keys)))
                 .select_from(page.join(owner, owner.c.id == page.c.organisation_id)
                              .outerjoin(related, related.c.item_id == page.c.id)
                              .outerjoin(basis, basis.c.t == page.c.basis_text))
                 .offset(0).subquery("cells"))
        return (select(*(_finish(inner.c[f"c{n}"], cells[k][1], csv) for n, k in enumerate(keys)))
                .order_by(inner.c.created_at, inner.c.key_id))

    return render


async def item_ledger(session: AsyncSession, principal: Principal, f: ResponsibilityItemFilter,
                      spec: ExportSpec, lang: Language) -> SqlLedger:
    """`/responsibility-items` as `list_items` pages it: created_at then id, its cursor scope."""
    pick = (await _filtered(session, principal, f)).with_only_columns(*_page_columns(), maintain_column_froms=True)
    return SqlLedger(pick, (I.created_at, I.id), ("ts", "id"), "responsibility-items", renderer(spec, lang))

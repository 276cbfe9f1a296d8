"""Uploading, linking, unlinking, listing and downloading evidence files (DOMAIN.md "Cross-cutting").

Who may do what on which record: app/services/attachments/records.py. Every check on the caller
and the record runs before a byte is stored. The bytes are then streamed into the blob store
(hashing and counting as they go: over `max_attachment_bytes` → 413 `payload_too_large`), and
their type is read from the content (app/services/attachments/files.py: anything outside the
allowlist → 415 `attachment_type_not_allowed`); a refused file leaves nothing behind.

A record holds given bytes once: uploading (or linking) a file whose SHA-256 the record already
holds answers 200 with the link it has, also when two such requests race (the unique
`(record, sha256)` decides). Unlinking is refused (409 `attachment_in_use`) while the finding or
one of its measures cites the file as evidence. Each upload writes `attachment.create`, each
link `<record>_attachment.create`, each unlink `<record>_attachment.delete` audit rows (all filed
under the attachment's id; the record's id is in `after`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio.to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.core.errors import Conflict, NotFound, PayloadTooLarge, UnsupportedMediaType
from app.core.storage import BlobStore, BlobTooLarge
from app.models import Attachment, AttachmentPurpose, FindingAttachment, ReportAttachment
from app.schemas.attachments import (
    AttachedTo,
    AttachmentDetail,
    AttachmentLinkBrief,
    AttachmentLinkPage,
    AttachmentLinkRead,
    AttachmentRead,
)
from app.services import audit
from app.services.attachments import files
from app.services.attachments.evidence import cited_attachment_ids
from app.services.attachments.records import (
    Record,
    attachment_visible,
    finding_record,
    load_record,
    report_record,
)
from app.services.paging import keyset_page


class AttachmentTypeNotAllowed(UnsupportedMediaType):
    code, title = "attachment_type_not_allowed", "File type not allowed"


class AttachmentInUse(Conflict):
    code, title = "attachment_in_use", "The file is cited as evidence"


def not_found() -> NotFound:
    return NotFound("No such attachment.")


@dataclass(frozen=True)
class Upload:
    """The multipart file part, as the router hands it over."""

    stream: BinaryIO
    filename: str | None


def to_read(a: Attachment) -> AttachmentRead:
    return AttachmentRead(id=a.id, sha256=a.sha256, size=a.size, media_type=a.media_type, file_name=a.file_name,
                          organisation_id=a.organisation_id, uploaded_by_name=a.uploaded_by_name,
                          created_at=a.created_at, content_url=f"/attachments/{a.id}/content")


def _link_read(record: Record, link: Any, attachment: Attachment) -> AttachmentLinkRead:
    return AttachmentLinkRead(record_type=record.kind, record_id=record.id, purpose=link.purpose, label=link.label,
                              linked_by_name=link.linked_by_name, linked_at=link.created_at,
                              attachment=to_read(attachment))


async def _existing(session: AsyncSession, record: Record, sha256: str) -> AttachmentLinkRead | None:
    row = (await session.execute(select(record.link_model, Attachment)
                                 .join(Attachment, Attachment.id == record.link_model.attachment_id)
                                 .where(record.link_column == record.id, record.link_model.sha256 == sha256)
                                 .execution_options(populate_existing=True))).first()
    return _link_read(record, row[0], row[1]) if row else None


def _new_link(record: Record, principal: Principal, attachment: Attachment, organisation_id: uuid.UUID,
              purpose: AttachmentPurpose | None, label: str | None) -> Any:
    keys = {"finding_id" if record.kind == AttachedTo.finding else "report_id": record.id}
    return record.link_model(**keys, attachment_id=attachment.id, sha256=attachment.sha256,
                             purpose=purpose or record.default_purpose, label=label, organisation_id=organisation_id,
                             linked_by_id=str(principal.id), linked_by_name=principal.name)


def _audit_link(session: AsyncSession, record: Record, link: Any, organisation_id: uuid.UUID, action: str) -> None:
    audit.record(session, action=f"{record.kind.value}_attachment.{action}", resource_type=f"{record.kind.value}_attachment",
                 resource_id=link.attachment_id, organisation_id=organisation_id,
                 after={f"{record.kind.value}_id": record.id, "attachment_id": link.attachment_id,
                        "sha256": link.sha256, "purpose": link.purpose, "label": link.label})


async def _store(store: BlobStore, upload: Upload, max_bytes: int) -> tuple[str, int, str]:
    try:
        blob, media_type = await anyio.to_thread.run_sync(
            lambda: store.put(upload.stream, max_bytes=max_bytes, inspect=files.sniff))
    except BlobTooLarge:
        raise PayloadTooLarge(f"Attachments are limited to {max_bytes} bytes.") from None
    except files.NotAllowedType:
        raise AttachmentTypeNotAllowed(
            "The file's content is none of the allowed types (PDF, PNG, JPEG, Word .docx, Excel .xlsx, OFD); "
            "its name and claimed type do not count.", allowed_types=list(files.ALLOWED_TYPES)) from None
    return blob.sha256, blob.size, media_type


async def upload(session: AsyncSession, store: BlobStore, principal: Principal, kind: AttachedTo,
                 record_id: uuid.UUID, file: Upload, *, purpose: AttachmentPurpose | None, label: str | None,
                 max_bytes: int) -> tuple[AttachmentLinkRead, bool]:
    """Store a file and link it to the record; (link, created). 404/403/409 from the record before any byte
    is kept; 413 oversize; 415 a type outside the allowlist."""
    record = await load_record(session, principal, kind, record_id, write=True)
    organisation_id = record.require_writer()
    sha256, size, media_type = await _store(store, file, max_bytes)
    if (found := await _existing(session, record, sha256)) is not None:
        return found, False
    attachment = Attachment(jurisdiction_id=record.jurisdiction_id, organisation_id=organisation_id, sha256=sha256,
                            size=size, media_type=media_type, file_name=files.display_name(file.filename, media_type),
                            client_file_name=files.client_name(file.filename), uploaded_by_id=str(principal.id),
                            uploaded_by_name=principal.name)
    try:
        async with session.begin_nested():
            session.add(attachment)
            await session.flush()
            link = _new_link(record, principal, attachment, organisation_id, purpose, label)
            session.add(link)
            await session.flush()
    except IntegrityError:  # the same bytes linked to this record by a concurrent request
        found = await _existing(session, record, sha256)
        if found is None:
            raise
        return found, False
    audit.record(session, action="attachment.create", resource_type="attachment", resource_id=attachment.id,
                 organisation_id=organisation_id, after={
                     "sha256": sha256, "size": size, "media_type": media_type, "file_name": attachment.file_name,
                     "client_file_name": attachment.client_file_name})
    _audit_link(session, record, link, organisation_id, "create")
    return _link_read(record, link, attachment), True


async def load_visible(session: AsyncSession, principal: Principal, attachment_id: uuid.UUID) -> Attachment:
    found = await session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                          attachment_visible(principal)))
    if found is None:
        raise not_found()
    return found


async def link(session: AsyncSession, principal: Principal, kind: AttachedTo, record_id: uuid.UUID,
               attachment_id: uuid.UUID, *, purpose: AttachmentPurpose | None, label: str | None
               ) -> tuple[AttachmentLinkRead, bool]:
    """Link a file the caller can read to another record (one file, several findings); (link, created).
    404 for a record or a file the caller cannot read; 403/409 from the record."""
    record = await load_record(session, principal, kind, record_id, write=True)
    organisation_id = record.require_writer()
    attachment = await load_visible(session, principal, attachment_id)
    if (found := await _existing(session, record, attachment.sha256)) is not None:
        return found, False
    new = _new_link(record, principal, attachment, organisation_id, purpose, label)
    try:
        async with session.begin_nested():
            session.add(new)
            await session.flush()
    except IntegrityError:
        found = await _existing(session, record, attachment.sha256)
        if found is None:
            raise
        return found, False
    _audit_link(session, record, new, organisation_id, "create")
    return _link_read(record, new, attachment), True


async def unlink(session: AsyncSession, principal: Principal, kind: AttachedTo, record_id: uuid.UUID,
                 attachment_id: uuid.UUID) -> None:
    """Remove a file from a record (the file itself stays, with its other links and its audit trail).
    404 when not linked there; 409 `attachment_in_use` while cited as evidence; 403/409 from the record."""
    record = await load_record(session, principal, kind, record_id, write=True)
    organisation_id = record.require_writer()
    found = await session.scalar(select(record.link_model).where(record.link_column == record.id,
                                                                 record.link_model.attachment_id == attachment_id))
    if found is None:
        raise not_found()
    if kind == AttachedTo.finding and attachment_id in await cited_attachment_ids(session, record.id):
        raise AttachmentInUse("The finding or one of its measures cites this file as evidence; it stays attached.")
    result = await session.execute(delete(record.link_model).where(record.link_column == record.id,
                                                                   record.link_model.attachment_id == attachment_id)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise not_found()  # removed by a concurrent request
    _audit_link(session, record, found, organisation_id, "delete")


async def list_links(session: AsyncSession, principal: Principal, kind: AttachedTo, record_id: uuid.UUID, *,
                     limit: int, cursor: str | None, include_total: bool) -> AttachmentLinkPage:
    """A record's files, oldest link first, for whoever may read the record (404 otherwise)."""
    record = await load_record(session, principal, kind, record_id)
    model = record.link_model
    stmt = select(model, Attachment).join(Attachment, Attachment.id == model.attachment_id).where(
        record.link_column == record.id)
    rows, next_cursor, total = await keyset_page(
        session, stmt, keys=(model.created_at, model.attachment_id), kinds=("ts", "id"),
        scope=f"attachments/{kind.value}/{record.id}", limit=limit, cursor=cursor, include_total=include_total,
        key_values=lambda r: (r[0].created_at, r[0].attachment_id))
    return AttachmentLinkPage(items=[_link_read(record, r[0], r[1]) for r in rows], next_cursor=next_cursor,
                              total=total)


async def get_attachment(session: AsyncSession, principal: Principal, attachment_id: uuid.UUID) -> AttachmentDetail:
    """The file's metadata and the records it supports that the caller may read (404 otherwise)."""
    attachment = await load_visible(session, principal, attachment_id)
    links: list[AttachmentLinkBrief] = []
    for kind, model, column, loader in (
            (AttachedTo.finding, FindingAttachment, FindingAttachment.finding_id, finding_record),
            (AttachedTo.report, ReportAttachment, ReportAttachment.report_id, report_record)):
        for row in (await session.scalars(select(model).where(model.attachment_id == attachment.id)
                                          .order_by(model.created_at))).all():
            try:
                await loader(session, principal, getattr(row, column.key))
            except NotFound:
                continue
            links.append(AttachmentLinkBrief(record_type=kind, record_id=getattr(row, column.key), purpose=row.purpose,
                                             label=row.label, linked_at=row.created_at))
    return AttachmentDetail(**to_read(attachment).model_dump(), links=links)


async def open_content(store: BlobStore, attachment: Attachment) -> BinaryIO:
    """An open stream of a file's bytes (load it with `load_visible` first)."""
    return await anyio.to_thread.run_sync(store.open, attachment.sha256)

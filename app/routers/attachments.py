"""Evidence attachments (佐证材料): `/findings/{id}/attachments`, `/reports/{id}/attachments`, `/attachments/{id}`.

Reading a record's files needs the record's read permission and the record visible to you (404
otherwise); a file (`/attachments/{id}`) is readable by whoever may read a record it supports.
Attaching (upload or link) and removing: staff or the leader AT a finding's responsible (主责)
organisation or the office AT its rectification office, until it is closed or unrectifiable; staff
or the leader AT a report's filing organisation while it is a draft (403 others, 409 `record_closed`
after). Uploads are `multipart/form-data` with one `file` part; the type is read from the content
(PDF, PNG, JPEG, .docx, .xlsx, OFD; else 415), the size is capped (413), the name is only shown.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.authz.principal import Principal
from app.authz.roles import Permission
from app.core.errors import ValidationFailed
from app.core.openapi import problem_responses
from app.core.storage import BlobStore, iter_chunks
from app.dependencies import BlobStoreDep, PageDep, SessionDep, require
from app.models import AttachmentPurpose
from app.schemas.attachments import (
    AttachedTo,
    AttachmentDetail,
    AttachmentLinkCreate,
    AttachmentLinkPage,
    AttachmentLinkRead,
)
from app.services.attachments import files, service

# Upload paths get their own body limit in app/core/http.py (wired in app/main.py).
UPLOAD_PATHS = re.compile(r"^/(findings|reports)/[^/]+/attachments/?$")
MULTIPART_OVERHEAD = 64 * 1024

router = APIRouter(tags=["attachments"], form_limits={"max_files": 1, "max_fields": 4, "max_part_size": 4096})

FindingReader = Annotated[Principal, require(Permission.findings_read)]
FindingWriter = Annotated[Principal, require(Permission.findings_write)]
ReportReader = Annotated[Principal, require(Permission.reports_read)]
ReportWriter = Annotated[Principal, require(Permission.reports_write)]
# `format: binary` bounds it for contract tools (the real cap is MAX_ATTACHMENT_BYTES, a setting: 413).
FilePart = Annotated[UploadFile, File(description="The file (one part). Its type is read from its content; "
                                                  "at most MAX_ATTACHMENT_BYTES (50 MiB by default).",
                                      json_schema_extra={"format": "binary"})]
PurposePart = Annotated[AttachmentPurpose | None, Form(description="What it is for (default: `evidence` on a "
                                                                   "finding, `annex` on a report).")]
LabelPart = Annotated[str | None, Form(max_length=200, description="A caption.")]
CREATED_OR_KEPT = {200: {"model": AttachmentLinkRead, "description": "The record already holds these bytes: "
                         "its existing link."},
                   201: {"description": "Stored and linked; `Location` names the file."}}
UPLOAD_ERRORS = problem_responses(400, 403, 404, 409, 413, 415, 422)
LINK_ERRORS = problem_responses(403, 404, 409, 422)


UPLOAD_PARTS = frozenset({"file", "purpose", "label"})


async def _refuse_unknown_parts(request: Request) -> None:
    """An upload takes only its declared parts (the schema says `additionalProperties: false`): a part
    we would silently drop is 422, as an unknown JSON field is (CONVENTIONS.md)."""
    unknown = sorted(set((await request.form()).keys()) - UPLOAD_PARTS)
    if unknown:
        raise ValidationFailed("Unknown form parts: an upload takes `file`, `purpose` and `label`.", errors=[
            {"pointer": f"/{name}", "source": "body", "type": "unknown_field", "message": "not a part of an upload"}
            for name in unknown])


async def _upload(request: Request, session: AsyncSession, store: BlobStore, principal: Principal,
                  kind: AttachedTo, record_id: uuid.UUID, file: UploadFile, purpose: AttachmentPurpose | None,
                  label: str | None) -> Response:
    await _refuse_unknown_parts(request)
    read, created = await service.upload(
        session, store, principal, kind, record_id, service.Upload(file.file, file.filename), purpose=purpose,
        label=label, max_bytes=request.app.state.settings.max_attachment_bytes)
    return _answer(read, created)


def _answer(read: AttachmentLinkRead, created: bool) -> Response:
    return Response(read.model_dump_json(), status_code=201 if created else 200, media_type="application/json",
                    headers={"Location": read.attachment.content_url.removesuffix("/content")})


@router.post("/findings/{finding_id}/attachments", status_code=201, response_model=AttachmentLinkRead,
             responses={**CREATED_OR_KEPT, **UPLOAD_ERRORS})
async def upload_finding_attachment(finding_id: uuid.UUID, request: Request, session: SessionDep,
                                    store: BlobStoreDep, principal: FindingWriter, file: FilePart,
                                    purpose: PurposePart = None, label: LabelPart = None) -> Response:
    """Attach a file to a finding: staff or the leader of its responsible organisation, or its rectification
    office, until closed or unrectifiable (403/409). 415 `attachment_type_not_allowed`, 413 oversize; the same
    bytes again answer 200 with the existing link. Cite it as evidence with `kind: attachment`."""
    return await _upload(request, session, store, principal, AttachedTo.finding, finding_id, file, purpose, label)


@router.get("/findings/{finding_id}/attachments", response_model=AttachmentLinkPage,
            responses=problem_responses(404))
async def list_finding_attachments(finding_id: uuid.UUID, session: SessionDep, page: PageDep,
                                   principal: FindingReader) -> AttachmentLinkPage:
    """A finding's files, oldest first: anyone who may read the finding (404 otherwise)."""
    return await service.list_links(session, principal, AttachedTo.finding, finding_id, limit=page.limit,
                                    cursor=page.cursor, include_total=page.include_total)


@router.put("/findings/{finding_id}/attachments/{attachment_id}", status_code=201,
            response_model=AttachmentLinkRead, responses={**CREATED_OR_KEPT, **LINK_ERRORS})
async def link_finding_attachment(finding_id: uuid.UUID, attachment_id: uuid.UUID, body: AttachmentLinkCreate,
                                  session: SessionDep, principal: FindingWriter) -> Response:
    """Link a file you can read to this finding too (one file, several findings): who may attach (403/409);
    404 for a file you cannot read. 200 when the finding already holds these bytes."""
    return _answer(*await service.link(session, principal, AttachedTo.finding, finding_id, attachment_id,
                                       purpose=body.purpose, label=body.label))


@router.delete("/findings/{finding_id}/attachments/{attachment_id}", status_code=204,
               responses=problem_responses(403, 404, 409))
async def unlink_finding_attachment(finding_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep,
                                    principal: FindingWriter) -> Response:
    """Remove a file from this finding (the file and its other links stay): who may attach (403/409);
    409 `attachment_in_use` while the finding or a measure cites it as evidence."""
    await service.unlink(session, principal, AttachedTo.finding, finding_id, attachment_id)
    return Response(status_code=204)


@router.post("/reports/{report_id}/attachments", status_code=201, response_model=AttachmentLinkRead,
             responses={**CREATED_OR_KEPT, **UPLOAD_ERRORS})
async def upload_report_attachment(report_id: uuid.UUID, request: Request, session: SessionDep,
                                   store: BlobStoreDep, principal: ReportWriter, file: FilePart,
                                   purpose: PurposePart = None, label: LabelPart = None) -> Response:
    """Attach a file to a report: staff or the leader of a filing organisation while it is a draft
    (403/409). 415, 413 and the same-bytes rule as for findings."""
    return await _upload(request, session, store, principal, AttachedTo.report, report_id, file, purpose, label)


@router.get("/reports/{report_id}/attachments", response_model=AttachmentLinkPage,
            responses=problem_responses(404))
async def list_report_attachments(report_id: uuid.UUID, session: SessionDep, page: PageDep,
                                  principal: ReportReader) -> AttachmentLinkPage:
    """A report's files, oldest first: anyone who may read the report (404 otherwise)."""
    return await service.list_links(session, principal, AttachedTo.report, report_id, limit=page.limit,
                                    cursor=page.cursor, include_total=page.include_total)


@router.put("/reports/{report_id}/attachments/{attachment_id}", status_code=201,
            response_model=AttachmentLinkRead, responses={**CREATED_OR_KEPT, **LINK_ERRORS})
async def link_report_attachment(report_id: uuid.UUID, attachment_id: uuid.UUID, body: AttachmentLinkCreate,
                                 session: SessionDep, principal: ReportWriter) -> Response:
    """Link a file you can read to this report: the filer's staff or leader while a draft (403/409)."""
    return _answer(*await service.link(session, principal, AttachedTo.report, report_id, attachment_id,
                                       purpose=body.purpose, label=body.label))


@router.delete("/reports/{report_id}/attachments/{attachment_id}", status_code=204,
               responses=problem_responses(403, 404, 409))
async def unlink_report_attachment(report_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep,
                                   principal: ReportWriter) -> Response:
    """Remove a file from a draft report: the filer's staff or leader (403/409)."""
    await service.unlink(session, principal, AttachedTo.report, report_id, attachment_id)
    return Response(status_code=204)


@router.get("/attachments/{attachment_id}", response_model=AttachmentDetail, responses=problem_responses(404))
async def get_attachment(attachment_id: uuid.UUID, session: SessionDep,
                         principal: FindingReader) -> AttachmentDetail:
    """A file's metadata and the records it supports that you may read; 404 unless you may read one of
    them (or it was uploaded for an organisation in your scope)."""
    return await service.get_attachment(session, principal, attachment_id)


@router.get("/attachments/{attachment_id}/content", response_class=StreamingResponse,
            responses={200: {"description": "The bytes, as `Content-Type` (the sniffed type), with "
                                            "`Content-Disposition: attachment` and `ETag` (the SHA-256).",
                             "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in files.ALLOWED_TYPES}},
                       304: {"description": "`If-None-Match` names the current content."},
                       **problem_responses(404)})
async def download_attachment(attachment_id: uuid.UUID, session: SessionDep, store: BlobStoreDep,
                              principal: FindingReader, if_none_match: Annotated[str | None, Header(
                                  alias="If-None-Match", max_length=200,
                                  description="The ETag you hold: 304 when unchanged.")] = None) -> Response:
    """Download a file: whoever may read it (404 otherwise). Always `attachment` (never shown inline),
    `X-Content-Type-Options: nosniff`, the name as RFC 6266/5987 `filename*` (UTF-8)."""
    attachment = await service.load_visible(session, principal, attachment_id)
    etag = f'"{attachment.sha256}"'
    if if_none_match and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag})
    stream = await service.open_content(store, attachment)
    # X-Content-Type-Options: nosniff comes with every response (app/core/http.py).
    return StreamingResponse(iter_chunks(stream), media_type=attachment.media_type, headers={
        "Content-Disposition": files.content_disposition(attachment.file_name), "ETag": etag,
        "Content-Length": str(attachment.size)})

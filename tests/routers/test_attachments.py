"""Evidence attachments (issue 6 item 4; DOMAIN.md "Cross-cutting": checked type and size, content hash,
one file supporting several findings). Done means: wrong type, oversize, path-traversal names and
out-of-scope downloads are refused cleanly.

Each finding here is env's own (env is its rectification office and its responsible organisation,
inspected by 督察领导小组 outside env's scope), `in_progress`; water's finding is outside every env
caller's scope. The role × scope grid of every route is in tests/authz (policy.py).
"""

from __future__ import annotations

import hashlib
import io
import re
import urllib.parse
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import (
    Attachment,
    AuditEvent,
    Finding,
    FindingAttachment,
    FindingParty,
    Inspection,
    Measure,
    ReportAttachment,
    ReportStatus,
)
from tests.conftest import ATTACHMENT_LIMIT
from tests.report_factories import make_report

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def ooxml(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(f"{part}/document.xml", "<w:document/>")
    return buffer.getvalue()


async def make_finding(database, world, org_key: str = "env", **fields) -> Finding:
    org, body = world.org(org_key), world.org("office_body")
    async with database.transaction() as s:
        inspection = Inspection(jurisdiction_id=org.jurisdiction_id, kind="party_inspection", title="巡视",
                                inspecting_body_id=body.id, rectification_office_id=org.id)
        s.add(inspection)
        await s.flush()
        finding = Finding(jurisdiction_id=org.jurisdiction_id, inspection_id=inspection.id, title="问题",
                          status=fields.pop("status", "in_progress"), rectification_office_id=org.id,
                          inspecting_body_id=body.id, responsible_organisation_id=org.id,
                          deadline=date(2030, 6, 30), rectification_started_on=date(2026, 1, 5), **fields)
        s.add(finding)
        await s.flush()
        s.add_all([FindingParty(finding_id=finding.id, organisation_id=org.id, role=r)
                   for r in ("rectification_office", "responsible")]
                  + [FindingParty(finding_id=finding.id, organisation_id=body.id, role="inspecting_body")])
    return finding


def blobs(settings) -> list[Path]:
    return [p for p in Path(settings.attachments_dir).rglob("*") if p.is_file()]


async def count(database, model, *where) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def upload(client, headers, finding_id, content: bytes, name="整改报告.pdf", content_type="application/pdf",
                 **form):
    return await client.post(f"/findings/{finding_id}/attachments", headers=headers,
                             files={"file": (name, content, content_type)}, data=form)


@pytest.fixture
def leader(world):
    return world.headers("env_leader")


class TestUpload:
    async def test_a_pdf_is_stored_hashed_linked_and_audited(self, client, world, database, settings, leader):
        finding = await make_finding(database, world)
        r = await upload(client, leader, finding.id, PDF, purpose="closure", label="销号佐证")
        assert r.status_code == 201, r.text
        body = r.json()
        sha = hashlib.sha256(PDF).hexdigest()
        assert body["attachment"] | {"id": None, "created_at": None, "content_url": None, "organisation_id": None} == {
            "id": None, "sha256": sha, "size": len(PDF), "media_type": "application/pdf", "file_name": "整改报告.pdf",
            "organisation_id": None, "uploaded_by_name": world.users["env_leader"].display_name, "created_at": None,
            "content_url": None}
        assert (body["record_type"], body["record_id"], body["purpose"], body["label"]) == (
            "finding", str(finding.id), "closure", "销号佐证")
        assert r.headers["location"] == f"/attachments/{body['attachment']['id']}"
        assert await count(database, FindingAttachment, FindingAttachment.finding_id == finding.id) == 1
        assert (Path(settings.attachments_dir) / sha[:2] / sha[2:4] / sha).read_bytes() == PDF
        actions = await count(database, AuditEvent, AuditEvent.resource_id == body["attachment"]["id"],
                              AuditEvent.action == "attachment.create")
        assert actions == 1
        assert await count(database, AuditEvent, AuditEvent.action == "finding_attachment.create",
                           AuditEvent.resource_id == body["attachment"]["id"]) == 1

    async def test_the_same_bytes_again_keep_one_blob_and_one_link(self, client, world, database, settings, leader):
        finding, other = await make_finding(database, world), await make_finding(database, world)
        first = (await upload(client, leader, finding.id, PDF)).json()
        again = await upload(client, leader, finding.id, PDF, name="copy.pdf")
        assert again.status_code == 200 and again.json()["attachment"]["id"] == first["attachment"]["id"]
        elsewhere = await upload(client, leader, other.id, PDF, name="另一份.pdf")
        assert elsewhere.status_code == 201
        assert elsewhere.json()["attachment"]["sha256"] == first["attachment"]["sha256"]
        assert await count(database, Attachment) == 2  # two uploads on two findings, one blob
        assert len([p for p in blobs(settings) if p.name == first["attachment"]["sha256"]]) == 1

    @pytest.mark.parametrize(("content", "media_type"), [
        (PNG, "image/png"), (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        (ooxml("word"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (ooxml("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")])
    async def test_allowed_types_are_read_from_the_content(self, client, world, database, leader, content,
                                                           media_type):
        finding = await make_finding(database, world)
        r = await upload(client, leader, finding.id, content, name="evidence", content_type="text/plain")
        assert r.status_code == 201, r.text
        assert r.json()["attachment"]["media_type"] == media_type
        assert "." in r.json()["attachment"]["file_name"]  # the real type's extension was added

    @pytest.mark.parametrize(("name", "content"), [
        ("setup.pdf", b"MZ\x90\x00\x03" + b"\x00" * 64),  # a Windows executable named .pdf
        ("通知.pdf", b"<!doctype html><script>alert(1)</script>"),  # HTML named .pdf
        ("bundle.docx", zipfile.ZipFile and b"PK\x05\x06" + b"\x00" * 18),  # an empty ZIP
        ("empty.pdf", b"")])
    async def test_other_content_is_refused_and_nothing_is_kept(self, client, world, database, settings, leader,
                                                                name, content):
        finding = await make_finding(database, world)
        before = blobs(settings)
        r = await upload(client, leader, finding.id, content, name=name)
        assert r.status_code == 415 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "attachment_type_not_allowed"
        assert "application/pdf" in r.json()["allowed_types"]
        assert await count(database, Attachment) == 0 and blobs(settings) == before

    async def test_a_plain_zip_is_refused(self, client, world, database, leader):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("payload.exe", "MZ")
        finding = await make_finding(database, world)
        r = await upload(client, leader, finding.id, buffer.getvalue(), name="a.docx")
        assert r.status_code == 415

    async def test_oversize_is_413_whether_declared_or_streamed(self, client, world, database, settings, leader):
        finding = await make_finding(database, world)
        before = blobs(settings)
        big = b"%PDF-" + b"0" * (ATTACHMENT_LIMIT + 1)
        declared = await upload(client, leader, finding.id, big)
        assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"
        # Just over the file limit, under the body limit: refused while the file is copied.
        over_file = await upload(client, leader, finding.id, big[:ATTACHMENT_LIMIT + 1])
        assert over_file.status_code == 413 and over_file.json()["code"] == "payload_too_large"
        # Chunked (no Content-Length), far past the body limit: counted as it streams.
        boundary = "b0undary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                "Content-Type: application/pdf\r\n\r\n").encode()

        async def chunks():
            yield head
            for _ in range(4):
                yield b"0" * ATTACHMENT_LIMIT
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = await client.post(f"/findings/{finding.id}/attachments", content=chunks(), headers={
            **leader, "content-type": f"multipart/form-data; boundary={boundary}"})
        assert streamed.status_code == 413, streamed.text
        assert streamed.headers["content-type"].startswith("application/problem+json")
        assert await count(database, Attachment) == 0 and blobs(settings) == before

    async def test_no_file_part_is_422(self, client, world, database, leader):
        finding = await make_finding(database, world)
        r = await client.post(f"/findings/{finding.id}/attachments", headers=leader, data={"label": "x"},
                              files={"other": ("a.pdf", PDF, "application/pdf")})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/file"

    async def test_an_unknown_part_is_422_and_nothing_is_stored(self, client, world, database, settings, leader):
        # The contract says additionalProperties: false; a part we would drop silently is refused instead.
        finding = await make_finding(database, world)
        before = blobs(settings)
        r = await upload(client, leader, finding.id, PDF, label="佐证", remark="多余字段")
        assert r.status_code == 422, r.text
        assert [(e["pointer"], e["type"]) for e in r.json()["errors"]] == [("/remark", "unknown_field")]
        assert await count(database, Attachment) == 0 and blobs(settings) == before

    async def test_nul_in_a_field_is_422(self, client, world, database, leader):
        finding = await make_finding(database, world)
        r = await upload(client, leader, finding.id, PDF, label="a\x00b")
        assert r.status_code == 422 and r.json()["errors"][0]["type"] == "nul_character"


class TestNames:
    @pytest.mark.parametrize(("sent", "shown"), [
        ("../../etc/passwd", "passwd.pdf"), ("..\\..\\x", "x.pdf"), ("a\x00b.pdf", "ab.pdf"),
        ("report\u202egnp.pdf", "reportgnp.pdf"), ("C:\\Users\\王五\\整改.pdf", "整改.pdf"), ("...", "attachment.pdf"),
        ("x" * 500 + ".pdf", "x" * 196 + ".pdf"), ("invoice.exe", "invoice.exe.pdf")])
    async def test_names_are_cleaned_and_never_reach_the_disk(self, client, world, database, settings, leader,
                                                              sent, shown):
        finding = await make_finding(database, world)
        # Sent raw: httpx would percent-encode a NUL or quote in the file name itself.
        boundary = "n4mes"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{sent}"\r\n'
                "Content-Type: application/pdf\r\n\r\n").encode() + PDF + f"\r\n--{boundary}--\r\n".encode()
        r = await client.post(f"/findings/{finding.id}/attachments", content=body, headers={
            **leader, "content-type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 201, r.text
        assert r.json()["attachment"]["file_name"] == shown
        stored = {p.name for p in blobs(settings)}
        assert r.json()["attachment"]["sha256"] in stored
        assert all(re.fullmatch("[0-9a-f]{64}", name) for name in stored)  # content-addressed, nothing else
        download = await client.get(r.json()["attachment"]["content_url"], headers=leader)
        disposition = download.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="') and "/" not in disposition.split("''")[0]
        assert urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1]) == shown


class TestDownload:
    async def test_headers(self, client, world, database, leader):
        finding = await make_finding(database, world)
        att = (await upload(client, leader, finding.id, PDF, name="整改完成情况.pdf")).json()["attachment"]
        r = await client.get(f"/attachments/{att['id']}/content", headers=world.headers("env_viewer"))
        assert r.status_code == 200 and r.content == PDF
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-length"] == str(len(PDF))
        assert r.headers["etag"] == f'"{att["sha256"]}"'
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-disposition"] == (
            "attachment; filename=\"______.pdf\"; filename*=UTF-8''"
            "%E6%95%B4%E6%94%B9%E5%AE%8C%E6%88%90%E6%83%85%E5%86%B5.pdf")
        again = await client.get(f"/attachments/{att['id']}/content",
                                 headers={**leader, "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304

    async def test_out_of_scope_is_404_and_anonymous_401(self, client, world, database):
        finding = await make_finding(database, world, "water")
        water = await make_user_headers(database, world)
        att = (await upload(client, water, finding.id, PDF)).json()["attachment"]
        for path in (f"/attachments/{att['id']}", f"/attachments/{att['id']}/content",
                     f"/findings/{finding.id}/attachments"):
            r = await client.get(path, headers=world.headers("env_leader"))
            assert r.status_code == 404 and r.json()["code"] == "not_found", path
            assert att["id"] not in {k: v for k, v in r.json().items() if k != "instance"}.__repr__()
            assert (await client.get(path)).status_code == 401
        # ... and a file you cannot read cannot be linked to your own finding either.
        own = await make_finding(database, world)
        r = await client.put(f"/findings/{own.id}/attachments/{att['id']}", headers=world.headers("env_leader"),
                             json={})
        assert r.status_code == 404


async def make_user_headers(database, world) -> dict[str, str]:
    from app.models import Role
    from tests.factories import auth, make_user

    async with database.transaction() as s:
        user = await make_user(s, "t.water.leader", (world.org("water"), Role.leader))
    return auth(user)


class TestLinks:
    async def test_one_file_supports_several_findings(self, client, world, database, leader):
        first, second = await make_finding(database, world), await make_finding(database, world)
        att = (await upload(client, leader, first.id, PDF)).json()["attachment"]
        r = await client.put(f"/findings/{second.id}/attachments/{att['id']}", headers=world.headers("env_office"),
                             json={"purpose": "verification", "label": "举一反三"})
        assert r.status_code == 201 and r.json()["record_id"] == str(second.id)
        again = await client.put(f"/findings/{second.id}/attachments/{att['id']}", headers=leader, json={})
        assert again.status_code == 200 and again.json()["purpose"] == "verification"
        listed = await client.get(f"/findings/{second.id}/attachments", headers=world.headers("env_viewer"),
                                  params={"include_total": "true"})
        assert [i["attachment"]["id"] for i in listed.json()["items"]] == [att["id"]]
        detail = await client.get(f"/attachments/{att['id']}", headers=leader)
        assert {link["record_id"] for link in detail.json()["links"]} == {str(first.id), str(second.id)}
        assert await count(database, Attachment) == 1

    async def test_unlink_keeps_the_file_and_its_other_links(self, client, world, database, leader):
        first, second = await make_finding(database, world), await make_finding(database, world)
        att = (await upload(client, leader, first.id, PDF)).json()["attachment"]
        await client.put(f"/findings/{second.id}/attachments/{att['id']}", headers=leader, json={})
        r = await client.delete(f"/findings/{first.id}/attachments/{att['id']}", headers=leader)
        assert r.status_code == 204
        assert (await client.delete(f"/findings/{first.id}/attachments/{att['id']}", headers=leader)).status_code == 404
        assert (await client.get(f"/attachments/{att['id']}/content", headers=leader)).status_code == 200
        assert await count(database, AuditEvent, AuditEvent.action == "finding_attachment.delete",
                           AuditEvent.resource_id == att["id"]) == 1

    async def test_a_closed_finding_keeps_its_files(self, client, world, database, leader):
        finding = await make_finding(database, world)
        att = (await upload(client, leader, finding.id, PDF)).json()["attachment"]
        async with database.transaction() as s:
            (await s.get(Finding, finding.id)).status = "closed"
        for r in (await upload(client, leader, finding.id, PNG),
                  await client.delete(f"/findings/{finding.id}/attachments/{att['id']}", headers=leader)):
            assert r.status_code == 409 and r.json()["code"] == "record_closed"

    async def test_viewers_and_other_roles_cannot_attach(self, client, world, database):
        finding = await make_finding(database, world)
        for role in ("env_viewer", "env_leadership", "env_inspector"):
            r = await upload(client, world.headers(role), finding.id, PDF)
            assert r.status_code == 403, role
        assert await count(database, Attachment) == 0


class TestEvidence:
    """DOMAIN.md: in_progress --request_closure(leader; …; evidence)--> closure_requested; the evidence may be a
    real file, cited by its id, and then it must be attached to that finding."""

    async def test_closure_can_cite_an_attached_file_which_then_stays(self, client, world, database, leader):
        finding = await make_finding(database, world)
        async with database.transaction() as s:
            s.add(Measure(finding_id=finding.id, jurisdiction_id=finding.jurisdiction_id, title="措施",
                          deadline=date(2030, 1, 1), status="done"))
        att = (await upload(client, leader, finding.id, PDF)).json()["attachment"]
        other = await make_finding(database, world)
        foreign = (await upload(client, leader, other.id, PNG)).json()["attachment"]
        etag = make_etag(finding.id, finding.version)

        def closure(reference):
            return {"summary": "完成", "evidence": [{"kind": "attachment", "title": "整改报告", "reference": reference}]}

        for bad in (foreign["id"], "not-a-uuid"):
            r = await client.post(f"/findings/{finding.id}/request-closure", headers={**leader, "If-Match": etag},
                                  json=closure(bad))
            assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/evidence/0/reference", r.text
        r = await client.post(f"/findings/{finding.id}/request-closure", headers={**leader, "If-Match": etag},
                              json=closure(att["id"]))
        assert r.status_code == 200, r.text
        r = await client.delete(f"/findings/{finding.id}/attachments/{att['id']}", headers=leader)
        assert r.status_code == 409 and r.json()["code"] == "attachment_in_use"


class TestReports:
    async def test_the_filer_attaches_to_a_draft_report(self, client, world, database):
        async with database.transaction() as s:
            report = await make_report(s, world.org("env"), recipients=(world.org("hainan"),),
                                       status=ReportStatus.draft)
        staff = world.headers("env_staff")
        r = await client.post(f"/reports/{report.id}/attachments", headers=staff,
                              files={"file": ("年度报告.pdf", PDF, "application/pdf")})
        assert r.status_code == 201 and r.json()["purpose"] == "annex"
        listed = await client.get(f"/reports/{report.id}/attachments", headers=world.headers("env_viewer"))
        assert len(listed.json()["items"]) == 1
        assert (await client.get(f"/reports/{report.id}/attachments", headers=world.headers("henan_staff"))
                ).status_code == 404
        async with database.transaction() as s:
            s.add(await s.get(type(report), report.id))
            (await s.get(type(report), report.id)).status = ReportStatus.submitted
        r = await client.post(f"/reports/{report.id}/attachments", headers=staff,
                              files={"file": ("b.png", PNG, "image/png")})
        assert r.status_code == 409 and r.json()["code"] == "record_closed"
        assert await count(database, ReportAttachment) == 1


class TestRaces:
    """RELIABILITY REL-02 in kind: simultaneous uploads (or links) of the same bytes to one finding leave one
    file, one link and one audit row; the others answer 200 with that link; no 5xx."""

    async def test_simultaneous_uploads_of_the_same_bytes(self, client, world, database, leader):
        import asyncio

        finding = await make_finding(database, world)
        barrier = asyncio.Barrier(8)

        async def one(i):
            await barrier.wait()
            return await upload(client, leader, finding.id, PDF, name=f"{i}.pdf")

        answers = await asyncio.gather(*(one(i) for i in range(8)))
        assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
        assert len({a.json()["attachment"]["id"] for a in answers}) == 1
        assert await count(database, FindingAttachment, FindingAttachment.finding_id == finding.id) == 1
        assert await count(database, Attachment) == 1
        assert await count(database, AuditEvent, AuditEvent.action == "attachment.create",
                           AuditEvent.resource_id == answers[0].json()["attachment"]["id"]) == 1

    async def test_simultaneous_links_of_one_file(self, client, world, database, leader):
        import asyncio

        first, second = await make_finding(database, world), await make_finding(database, world)
        att = (await upload(client, leader, first.id, PDF)).json()["attachment"]
        barrier = asyncio.Barrier(8)

        async def one():
            await barrier.wait()
            return await client.put(f"/findings/{second.id}/attachments/{att['id']}", headers=leader, json={})

        answers = await asyncio.gather(*(one() for _ in range(8)))
        assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
        assert await count(database, AuditEvent, AuditEvent.action == "finding_attachment.create",
                           AuditEvent.resource_id == att["id"]) == 2  # the upload's link, and one of these


async def test_one_file_part_per_upload(client, world, database, leader):
    """RELIABILITY API4-a: Starlette's multipart limits (max_files=1) answer a problem, nothing is kept."""
    finding = await make_finding(database, world)
    r = await client.post(f"/findings/{finding.id}/attachments", headers=leader, files=[
        ("file", ("a.pdf", PDF, "application/pdf")), ("file", ("b.png", PNG, "image/png"))])
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert await count(database, Attachment) == 0

"""The authorization policy of every route, written by hand (RELIABILITY.md API1-a, API5-a, §4.5).

Sources: DOMAIN.md "Users, roles and scope" (a membership covers its organisation and
everything below it; anonymous callers read only what is published), CONVENTIONS.md
"Authorization has three layers" (wrong role → 403, out of scope → 404) and each route's
docstring (who may call). Deliberately NOT derived from `app.authz.roles.ROLE_PERMISSIONS`:
this table is the oracle the code is checked against, so a permission slipping into the
wrong role turns a cell red.

Every caller sits at `env` (海南省生态环境厅, a department, not a coordination office, so no
member units widen its scope). The relation picks the target object of the cell:

    same    env         the caller's own organisation        in scope
    child   env_unit    an internal unit below it            in scope
    parent  gov         the government above it              out of scope
    sibling water       another department under gov         out of scope
    other   henan_env   a department of another province     out of scope
    straddle env        (users only) a staff member of env who is ALSO admin at hainan, the root
                        above the caller: readable, and its env membership is the caller's to
                        manage, but account-wide changes (name, contact, password, activation)
                        would let a subtree admin take over or lock out a province admin: 403

Per target kind, "the object at a relation" is: `org` the organisation itself; `user` a
staff member of it; `membership` that user's viewer membership there; `client` an
integration client of it; `event` an audit event filed under it; `lead_decision` a lead decision
it raised (its requester; 督察领导小组办公室 convenes and 省政府 decides, as Hainan's profile says, so
every party but the requester lies outside env's subtree); `report` a report it files to 海南省
(the root, outside every caller's scope, so no caller is ever its recipient); `duty_list` / `item` a
draft duty list of it with one item; `duty_list_import_batch` a spreadsheet import into that list
(its kept answer). Rows with `target=None` do not depend on a relation (one cell
per caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RELATIONS = ("same", "child", "parent", "sibling", "other")
USER_RELATIONS = (*RELATIONS, "straddle")
RELATION_ORG = {"same": "env", "child": "env_unit", "parent": "gov", "sibling": "water", "other": "henan_env",
                "straddle": "env"}
IN_SCOPE = frozenset({"same", "child", "straddle"})  # reaches into the subtree of env

ROLES = ("admin", "staff", "leader", "office", "leadership", "inspector", "discipline", "viewer", "client")
ANONYMOUS = "anonymous"

# Who holds what, from DOMAIN.md's role table and the route docstrings ("client" = an integration
# client of env whose only scope is organisations:read).
EVERYONE = frozenset(ROLES)                               # any signed-in caller
USERS = EVERYONE - {"client"}                             # signed-in people (clients have no password)
ORG_READERS = EVERYONE                                    # organisations: "Any role may call"
USER_READERS = frozenset({"admin", "office", "leader", "leadership"})  # users router: users:read
AUDIT_READERS = frozenset({"admin", "office"})            # audit router: "Admins and offices"
ADMIN = frozenset({"admin"})                              # organisations, users, clients, chain check
DUTY_READERS = USERS                                      # duty_lists:read: every role (clients: by scope)
DUTY_WRITERS = frozenset({"admin", "staff", "leader", "office", "leadership"})  # duty_lists:write
LD_READERS = USERS                                        # lead_decisions:read (the client holds another scope)
LD_WRITERS = frozenset({"admin", "office", "leader", "leadership"})  # lead_decisions:write
FINDING_READERS = USERS                                   # findings:read: every role (clients: by scope)
FINDING_WRITERS = DUTY_WRITERS | {"inspector"}            # findings:write (DOMAIN.md: inspectors register)
PUBLIC = "public"                                         # anyone, token or not
REPORT_READERS = USERS                                    # reports: any role in scope (no client scope here)
REPORT_WRITERS = frozenset({"admin", "staff", "leader", "office", "leadership"})  # reports:write


@dataclass(frozen=True)
class Row:
    """One route's policy. Strings in `body`/`form`/`query` are `str.format`ted with the cell's
    values: {org} (the relation's organisation id), {env}, {caller}, {rel}, {username} and
    {password} (a signed-up target user), {token} (this run's audit resource_type),
    {office_body} (督察领导小组, an inspecting body outside env's scope), {inspection} (the relation's
    inspection),
    {refresh_token} (from prep), {new_password}."""

    who: frozenset[str] | str     # callers that pass the role check, or PUBLIC
    ok: int                       # status for them on an in-scope target
    target: str | None = None     # org | user | membership | client | event; None: relation-blind
    out: int = 404                # status for them on an out-of-scope target (422: a body reference)
    body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    files: dict[str, list[str]] | None = None  # multipart parts: name → [file name, content, content type]
    query: dict[str, str] | None = None
    path: dict[str, str] = field(default_factory=dict)  # fixed path params ({code})
    if_match: bool = False        # send If-Match: the target's current ETag
    prep: str | None = None       # deactivate (the target first) | membership | refresh_token | item (restore)
    write: str | None = None      # what must stay unchanged on refusal: a target kind, "self",
    #                               or "new:<kind>" (no row created); success must audit it
    lists: str | None = None      # a page of this kind: every item must lie in the caller's scope
    cells: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # (role, relation): why
    # Workflow routes: of the callers that pass the permission (`who`), those that may take the step
    # at all; the others get 403 on an in-scope target. A step is taken AT an organisation (DOMAIN.md:
    # "the role says what a member of that organisation may do there"), so on the child's record
    # (env_unit's, where the caller holds no role) everyone in `who` gets 403 too.
    acts: frozenset[str] | None = None


PAGE = {"include_total": "true", "limit": "200"}
ACCOUNT_WIDE = {("admin", "straddle"): (403, "the account is also admin at hainan, above the caller")}


def at_filer(*roles: str) -> dict[tuple[str, str], tuple[int, str]]:
    """Report steps: only these roles, held at the filer itself (env), pass; writers elsewhere get 403."""
    cells = {(r, "same"): (403, "holds no role for this step at the filer") for r in REPORT_WRITERS - set(roles)}
    return cells | {(r, "child"): (403, "its roles are at env, not at the filing unit") for r in REPORT_WRITERS}


DRAFT_CONTENT = {"content": {"sections": [{"topic": "duty_performance", "heading": "一、职责履行情况",
                                           "body": "已履行"}]}}
NEW_PASSWORD = "a much longer river phrase"

# Inspections and findings (DOMAIN.md "Inspections and findings"). Each relation's organisation X was
# inspected in a party inspection (巡视) by 督察领导小组 (`office_body`, outside env's scope; Henan's by its
# government): X is its own rectification office (001: the inspected department's own office) and the
# responsible (主责) organisation of its one finding, `in_progress` with rectification started, one open
# measure and one pending extension request. So at `same` the caller's office role is the office and its
# leader role the responsible leader; at `child` (env_unit's) it holds no role at the finding's organisations
# (403). Reads: every role in scope. Steps: the table at the finding's organisations; a step that does not
# leave in_progress is 409 for those who could take it in another state.
_F = "/findings/{finding_id}"
_OFFICE, _LEADER, _BOTH = frozenset({"office"}), frozenset({"leader"}), frozenset({"staff", "leader"})
_LOOKERS = frozenset({"office", "leader", "inspector"})  # inspector at env: env is an organisation of the finding


def _step(ok: int, acts: frozenset[str], body: dict[str, Any] | None = None, target: str = "finding") -> Row:
    return Row(FINDING_WRITERS, ok, target, acts=acts, body=body or {}, if_match=True, write=target)


FINDING_POLICY: dict[tuple[str, str], Row] = {
    ("POST", "/inspections"): Row(  # a party inspection of {org}: its office is {org} itself, so only at same
        FINDING_WRITERS, 201, "org", out=403, acts=_OFFICE, write="new:inspection",
        body={"kind": "party_inspection", "title": "巡视", "inspecting_body_id": "{office_body}",
              "inspected_organisation_ids": ["{org}"]}),
    ("GET", "/inspections"): Row(FINDING_READERS, 200, "inspection", out=200, lists="inspection",
                                 query={"inspected_organisation_id": "{org}", **PAGE}),
    ("GET", "/inspections/{inspection_id}"): Row(FINDING_READERS, 200, "inspection"),
    ("PATCH", "/inspections/{inspection_id}"): Row(FINDING_WRITERS, 200, "inspection", acts=_OFFICE,
                                                   body={"note": "已印发整改工作方案"}, if_match=True,
                                                   write="inspection"),
    ("GET", "/inspections/{inspection_id}/categories"): Row(FINDING_READERS, 200, "inspection"),
    ("POST", "/inspections/{inspection_id}/categories"): Row(FINDING_WRITERS, 201, "inspection", acts=_OFFICE,
                                                             body={"title": "方面"}, write="new:inspection_category"),
    ("POST", "/findings"): Row(  # the inspection is a body reference: out of scope is 422
        FINDING_WRITERS, 201, "org", out=422, acts=_OFFICE, write="new:finding",
        body={"inspection_id": "{inspection}", "title": "新发现的问题"}),
    ("GET", "/findings"): Row(FINDING_READERS, 200, "finding", out=200, lists="finding",
                              query={"subtree_of": "{org}", **PAGE}),
    ("GET", _F): Row(FINDING_READERS, 200, "finding"),
    ("PATCH", _F): _step(200, _OFFICE, {"title": "改"}),
    ("POST", f"{_F}/assign"): _step(409, _OFFICE, {"responsible_organisation_id": "{env}",
                                                   "deadline": "2030-01-01"}),
    ("POST", f"{_F}/submit-plan"): _step(409, _LEADER, {"measures": [{"title": "措施", "deadline": "2030-01-01"}]}),
    ("POST", f"{_F}/approve-plan"): _step(409, _OFFICE),
    ("POST", f"{_F}/return"): _step(409, _OFFICE, {"comment": "退回"}),
    ("POST", f"{_F}/return-amendment"): _step(409, _OFFICE, {"comment": "退回"}),
    ("POST", f"{_F}/amend-plan"): _step(200, _LEADER, {"measures": [{"title": "第二阶段", "deadline": "2030-01-01"}]}),
    ("POST", f"{_F}/request-closure"): _step(  # the measure is open: 409 measures_outstanding
        409, _LEADER, {"summary": "完成", "evidence": [{"kind": "link", "title": "公告", "reference": "https://x.cn"}]}),
    ("POST", f"{_F}/close"): _step(409, _OFFICE, {"verification_note": "核验"}),
    ("POST", f"{_F}/reject-closure"): _step(409, _OFFICE, {"comment": "未完成"}),
    ("POST", f"{_F}/declare-unrectifiable"): _step(200, _LEADER, {"reason": "无法整改",
                                                                   "confirming_organisation_id": "{env}"}),
    ("POST", f"{_F}/approve-unrectifiable"): _step(409, _OFFICE),
    ("POST", f"{_F}/reject-unrectifiable"): _step(409, _OFFICE, {"comment": "继续整改"}),
    ("POST", f"{_F}/sustain"): _step(409, _OFFICE),  # not a long-term finding
    ("GET", f"{_F}/history"): Row(FINDING_READERS, 200, "finding"),
    ("GET", f"{_F}/progress-updates"): Row(FINDING_READERS, 200, "finding"),
    ("POST", f"{_F}/progress-updates"): Row(FINDING_WRITERS, 201, "finding", acts=_BOTH, body={"summary": "进展"},
                                            write="new:progress_update"),
    ("GET", f"{_F}/lookbacks"): Row(FINDING_READERS, 200, "finding"),
    ("POST", f"{_F}/lookbacks"): Row(  # in_progress: nothing to look back on yet
        FINDING_WRITERS, 409, "finding", acts=_LOOKERS, body={"outcome": "passed", "note": "回头看"},
        write="finding"),
    ("GET", f"{_F}/extension-requests"): Row(FINDING_READERS, 200, "finding"),
    ("POST", f"{_F}/extension-requests"): Row(  # one is pending already: 409 for the leader
        FINDING_WRITERS, 409, "finding", acts=_LEADER, body={"requested_deadline": "2031-01-01", "reason": "延期"},
        write="new:extension_request"),
    ("GET", f"{_F}/extension-requests/{{extension_request_id}}"): Row(FINDING_READERS, 200, "extension_request"),
    ("GET", f"{_F}/extension-requests/{{extension_request_id}}/history"): Row(FINDING_READERS, 200,
                                                                               "extension_request"),
    ("POST", f"{_F}/extension-requests/{{extension_request_id}}/approve"): _step(200, _OFFICE,
                                                                                target="extension_request"),
    ("POST", f"{_F}/extension-requests/{{extension_request_id}}/reject"): _step(
        200, _OFFICE, {"comment": "不同意"}, target="extension_request"),
    ("GET", f"{_F}/measures"): Row(FINDING_READERS, 200, "finding"),
    ("GET", "/measures/{measure_id}"): Row(FINDING_READERS, 200, "measure"),
    ("POST", "/measures/{measure_id}/complete"): _step(200, _LEADER, target="measure"),
    ("POST", "/measures/{measure_id}/declare-cannot-complete"): _step(
        200, _LEADER, {"reason": "无法完成", "confirming_organisation_id": "{env}",
                       "evidence": [{"kind": "document", "title": "复函", "reference": "琼财函〔2021〕1号"}]},
        target="measure"),
    ("POST", "/measures/{measure_id}/verify"): _step(409, _OFFICE, target="measure"),  # open, not done
    ("POST", "/measures/{measure_id}/reopen"): _step(409, _OFFICE, {"comment": "未完成"}, target="measure"),
    ("POST", "/measures/{measure_id}/confirm"): _step(409, _OFFICE, target="measure"),
    ("POST", "/measures/{measure_id}/reject-cannot-complete"): _step(409, _OFFICE, {"comment": "继续"},
                                                                     target="measure"),
    ("GET", "/measures/{measure_id}/history"): Row(FINDING_READERS, 200, "measure"),
    # Statistics: every reader, for an organisation in scope (its subtree's findings); out of scope 404.
    ("GET", "/stats/findings"): Row(FINDING_READERS, 200, "org", query={"organisation_id": "{org}"}),
    # Historical import: admins, into an inspection whose office is in scope (a body reference: else 422);
    # a batch (one per relation, filed at its inspection's office) is read by admins in scope, else 404.
    ("POST", "/imports/finding-ledgers"): Row(
        ADMIN, 201, "org", out=422, write="new:finding_import_batch",
        body={"inspection_id": "{inspection}", "findings": [{"title": "历史问题", "status": "registered",
                                                             "registered_on": "2020-09-11"}]}),
    ("GET", "/imports/finding-ledgers/{batch_id}"): Row(ADMIN, 200, "finding_import_batch"),
    # Spreadsheet import: who registers one finding (the office AT the inspection's office; inspectors of
    # 督察领导小组, outside env's scope, are nobody here), into an inspection in scope (the path: else 404).
    ("POST", "/inspections/{inspection_id}/findings/imports"): Row(
        FINDING_WRITERS, 201, "inspection", acts=_OFFICE, write="new:finding",
        files={"file": ["问题台账.csv", "问题标题\r\n问题 {caller} {rel}\r\n", "text/csv"]}),
    # Its answer read again: the inspection's readers (GET /inspections/{id}), the relation's batch.
    ("GET", "/inspections/{inspection_id}/findings/imports/{batch_id}"): Row(FINDING_READERS, 200,
                                                                             "finding_import_batch"),
    ("GET", "/imports/templates/findings"): Row(FINDING_READERS, 200),
}

# Evidence attachments (issue 6 item 4; app/routers/attachments.py). Per relation, one PDF uploaded for
# its organisation (so readable in its subtree: the uploaders' scope), linked to its finding or report
# or not as the row's prep says (`attach:<finding|report>:<present|absent>`). Attaching on a finding:
# staff or leader AT its responsible organisation, office AT its rectification office (both X at same;
# nobody's at child); on a report: staff or leader AT the filer while a draft. Uploads get a content
# unique to the cell, so each is new (the same bytes again would answer 200).
_UPLOAD = {"file": ["证据.pdf", "%PDF-1.7 {caller} {rel}", "application/pdf"]}
_ATTACHERS = frozenset({"staff", "leader", "office"})
_R = "/reports/{report_id}"
ATTACHMENT_POLICY: dict[tuple[str, str], Row] = {
    ("POST", f"{_F}/attachments"): Row(FINDING_WRITERS, 201, "finding", acts=_ATTACHERS, files=_UPLOAD,
                                       form={"label": "佐证"}, write="new:attachment"),
    ("GET", f"{_F}/attachments"): Row(FINDING_READERS, 200, "finding"),
    ("PUT", f"{_F}/attachments/{{attachment_id}}"): Row(FINDING_WRITERS, 201, "finding", acts=_ATTACHERS, body={},
                                                         prep="attach:finding:absent", write="link:finding"),
    ("DELETE", f"{_F}/attachments/{{attachment_id}}"): Row(FINDING_WRITERS, 204, "finding", acts=_ATTACHERS,
                                                            prep="attach:finding:present", write="link:finding"),
    ("POST", f"{_R}/attachments"): Row(REPORT_WRITERS, 201, "report", files=_UPLOAD, prep="report:draft",
                                       write="new:attachment", cells=at_filer("staff", "leader")),
    ("GET", f"{_R}/attachments"): Row(REPORT_READERS, 200, "report"),
    ("PUT", f"{_R}/attachments/{{attachment_id}}"): Row(REPORT_WRITERS, 201, "report", body={},
                                                         prep="attach:report:absent", write="link:report",
                                                         cells=at_filer("staff", "leader")),
    ("DELETE", f"{_R}/attachments/{{attachment_id}}"): Row(REPORT_WRITERS, 204, "report",
                                                            prep="attach:report:present", write="link:report",
                                                            cells=at_filer("staff", "leader")),
    # A file: readable in the subtree it was uploaded for, and by whoever reads a record it supports.
    ("GET", "/attachments/{attachment_id}"): Row(FINDING_READERS, 200, "attachment"),
    ("GET", "/attachments/{attachment_id}/content"): Row(FINDING_READERS, 200, "attachment"),
}

# Escalations and accountability cases (DOMAIN.md "Escalations", "Accountability cases"). Each relation's
# organisation X issued an urge (督办) that it also decides and is addressed (so at `same` the caller's
# leadership decides, its leader or office replies), and X handed over, is responsible for and received
# one accountability case. The step rows set the state the step leaves first (prep). Creating needs
# office, leader or leadership AT the issuing organisation: anywhere else 403 (a role elsewhere issues
# nothing), the finding's sub-collection 404 out of scope. Transfer goes to 省纪委监委 ({discipline_body}).
ESC_READERS = USERS                                       # escalations:read: every role (clients: by scope)
ESC_WRITERS = frozenset({"admin", "office", "leader", "leadership"})  # escalations:write
CASE_READERS = USERS                                      # cases:read: every role, parties only
CASE_WRITERS = ESC_WRITERS | {"discipline"}               # cases:write: discipline records outcomes
_ISSUERS = frozenset({"office", "leader", "leadership"})
_E, _C = "/escalations/{escalation_id}", "/accountability-cases/{case_id}"
_NEW_ESCALATION = {"kind": "warning", "title": "预警函", "issuing_organisation_id": "{org}",
                   "addressee_organisation_ids": ["{org}"]}
_INVESTIGATION = {"cause": "监管不到位", "responsibility_determination": "分管负责人负领导责任"}


def _esc_step(acts: frozenset[str], prep: str, body: dict[str, Any] | None = None) -> Row:
    return Row(ESC_WRITERS, 200, "escalation", acts=acts, body=body or {}, if_match=True, write="escalation",
               prep=f"escalation:{prep}")


def _case_step(acts: frozenset[str], prep: str, body: dict[str, Any] | None = None) -> Row:
    return Row(CASE_WRITERS, 200, "case", acts=acts, body=body or {}, if_match=True, write="case",
               prep=f"case:{prep}")


ESCALATION_POLICY: dict[tuple[str, str], Row] = {
    ("POST", "/escalations"): Row(ESC_WRITERS, 201, "org", out=403, acts=_ISSUERS, write="new:escalation",
                                  body=_NEW_ESCALATION),
    ("GET", "/escalations"): Row(ESC_READERS, 200, "escalation", out=200, lists="escalation",
                                 query={"organisation_id": "{org}", **PAGE}),
    ("GET", _E): Row(ESC_READERS, 200, "escalation"),
    ("GET", f"{_E}/history"): Row(ESC_READERS, 200, "escalation"),
    ("POST", f"{_E}/decide"): _esc_step(frozenset({"leadership"}), "proposed"),
    ("POST", f"{_E}/reject"): _esc_step(frozenset({"leadership"}), "proposed", {"comment": "不同意"}),
    ("POST", f"{_E}/reply"): _esc_step(frozenset({"leader", "office"}), "issued", {"reply": "已办理"}),
    ("GET", "/findings/{finding_id}/escalations"): Row(ESC_READERS, 200, "finding"),
    ("POST", "/findings/{finding_id}/escalations"): Row(ESC_WRITERS, 201, "finding", acts=_ISSUERS,
                                                        write="new:escalation", body=_NEW_ESCALATION),
    ("GET", "/public/escalations"): Row(PUBLIC, 200),  # public summonses and circulars, for anyone
    ("GET", "/accountability-cases"): Row(CASE_READERS, 200, "case", out=200, lists="case",
                                          query={"organisation_id": "{org}", **PAGE}),
    ("GET", _C): Row(CASE_READERS, 200, "case"),
    ("GET", f"{_C}/history"): Row(CASE_READERS, 200, "case"),
    ("POST", f"{_C}/transfer"): _case_step(_LEADER, "investigating", {
        **_INVESTIGATION, "receiving_body_kind": "discipline", "receiving_organisation_id": "{discipline_body}"}),
    ("POST", f"{_C}/conclude-internally"): _case_step(_LEADER, "investigating",
                                                      {**_INVESTIGATION, "measure": "reminder_talk"}),
    ("POST", f"{_C}/accept"): _case_step(frozenset({"discipline", "office"}), "transferred"),
    ("POST", f"{_C}/conclude"): _case_step(frozenset({"discipline", "office"}), "accepted",
                                           {"outcome": "给予诫勉"}),
}


POLICY: dict[tuple[str, str], Row] = {
    # Public: health, labels, profiles (they restate published texts), docs, signing in.
    ("GET", "/healthz"): Row(PUBLIC, 200),
    ("GET", "/readyz"): Row(PUBLIC, 200),
    ("GET", "/meta/enums"): Row(PUBLIC, 200),
    ("GET", "/profiles"): Row(PUBLIC, 200),
    ("GET", "/profiles/{code}"): Row(PUBLIC, 200, path={"code": "hainan"}),
    ("GET", "/profiles/{code}/deadlines"): Row(PUBLIC, 200, path={"code": "henan"}, query={"year": "2025"}),
    ("GET", "/docs"): Row(PUBLIC, 200),
    ("GET", "/redoc"): Row(PUBLIC, 200),
    ("POST", "/auth/token"): Row(PUBLIC, 200, form={"grant_type": "password", "username": "{username}",
                                                    "password": "{password}"}),
    ("POST", "/auth/refresh"): Row(PUBLIC, 200, body={"refresh_token": "{refresh_token}"},
                                   prep="refresh_token"),

    # The caller itself.
    ("GET", "/me"): Row(EVERYONE, 200),
    ("POST", "/auth/logout"): Row(EVERYONE, 204, write="self"),
    ("POST", "/me/password"): Row(USERS, 204, body={"current_password": "{password}",
                                                    "new_password": "{new_password}"}, write="self"),

    # Organisations: reads for every role in scope, writes for admins in scope.
    ("POST", "/organisations"): Row(
        ADMIN, 201, "org", out=422, write="new:organisation",  # the parent is a body reference: 422
        body={"name": "新设处室", "kind": "internal_unit", "level": "province", "parent_id": "{org}"}),
    ("GET", "/organisations"): Row(ORG_READERS, 200, "org", out=200, lists="organisation",
                                   query={"subtree_of": "{org}", **PAGE}),  # foreign filter: nothing foreign
    ("GET", "/organisations/{organisation_id}"): Row(ORG_READERS, 200, "org"),
    ("PATCH", "/organisations/{organisation_id}"): Row(ADMIN, 200, "org", body={"lead_person": "李四"},
                                                      if_match=True, write="org"),
    ("POST", "/organisations/{organisation_id}/deactivate"): Row(
        ADMIN, 200, "org", if_match=True, write="org",
        cells={("admin", "same"): (409, "env still has an active child (env_unit)")}),
    ("POST", "/organisations/{organisation_id}/reactivate"): Row(
        ADMIN, 200, "org", if_match=True, write="org", prep="deactivate",
        cells={("admin", "same"): (403, "its membership is at a deactivated organisation: grants nothing")}),
    ("GET", "/organisations/{organisation_id}/children"): Row(ORG_READERS, 200, "org", lists="organisation"),
    ("GET", "/organisations/{organisation_id}/ancestors"): Row(ORG_READERS, 200, "org"),  # names above scope
    ("GET", "/organisations/{organisation_id}/subtree"): Row(ORG_READERS, 200, "org", lists="organisation"),
    # Designations belong to regions; none of the relation organisations is one, so in scope the
    # answer is 422 (scope is checked first: out of scope stays 404). Successes: tests/routers/test_designations.py.
    ("GET", "/organisations/{organisation_id}/designations"): Row(ORG_READERS, 422, "org"),
    ("PUT", "/organisations/{organisation_id}/designations"): Row(
        ADMIN, 422, "org", if_match=True, write="org",
        body={"items": [{"key": "environment_department", "organisation_ids": ["{env}"]}]}),

    # Users: users:read for admins, offices, leaders, leadership; writes for admins; in scope.
    ("POST", "/users"): Row(
        ADMIN, 201, "org", out=422, write="new:user",  # the membership's organisation is a body reference
        body={"username": "t.new.{caller}.{rel}", "display_name": "新用户", "password": NEW_PASSWORD,
              "memberships": [{"organisation_id": "{org}", "role": "viewer"}]}),
    ("GET", "/users"): Row(USER_READERS, 200, "user", out=200, lists="user",
                           query={"organisation_id": "{org}", **PAGE}),
    ("GET", "/users/{user_id}"): Row(USER_READERS, 200, "user"),
    ("PATCH", "/users/{user_id}"): Row(ADMIN, 200, "user", body={"display_name": "改名"}, if_match=True,
                                       write="user", cells=ACCOUNT_WIDE),
    ("POST", "/users/{user_id}/deactivate"): Row(ADMIN, 200, "user", if_match=True, write="user",
                                                 cells=ACCOUNT_WIDE),
    ("POST", "/users/{user_id}/reactivate"): Row(ADMIN, 200, "user", if_match=True, write="user",
                                                 prep="deactivate", cells=ACCOUNT_WIDE),
    ("POST", "/users/{user_id}/password"): Row(ADMIN, 200, "user", body={"password": NEW_PASSWORD},
                                               if_match=True, write="user", cells=ACCOUNT_WIDE),
    ("GET", "/users/{user_id}/memberships"): Row(USER_READERS, 200, "user", lists="membership"),
    ("POST", "/users/{user_id}/memberships"): Row(  # a role at env, the admin's own: only the user varies
        ADMIN, 201, "user", body={"organisation_id": "{env}", "role": "viewer"}, write="new:membership"),
    ("DELETE", "/users/{user_id}/memberships/{membership_id}"): Row(ADMIN, 204, "membership",
                                                                    prep="membership", write="membership"),

    # Integration clients: clients:manage, admins only, in scope.
    ("POST", "/integration-clients"): Row(
        ADMIN, 201, "org", out=422, write="new:client",
        body={"name": "新平台", "scopes": ["organisations:read"], "organisation_id": "{org}"}),
    ("GET", "/integration-clients"): Row(ADMIN, 200, lists="client"),
    ("GET", "/integration-clients/{integration_client_id}"): Row(ADMIN, 200, "client"),
    ("POST", "/integration-clients/{integration_client_id}/rotate-secret"): Row(
        ADMIN, 200, "client", if_match=True, write="client"),
    ("POST", "/integration-clients/{integration_client_id}/deactivate"): Row(
        ADMIN, 200, "client", if_match=True, write="client"),

    # Webhooks (issue 7): subscriptions belong to an integration client, so clients:manage in the client's
    # scope, like the client itself; each relation's client has one subscription with one delivery.
    ("POST", "/integration-clients/{integration_client_id}/webhook-subscriptions"): Row(
        ADMIN, 201, "client", write="new:webhook_subscription",
        body={"url": "https://93.184.216.34/hooks", "event_types": ["finding.assigned"]}),
    ("GET", "/integration-clients/{integration_client_id}/webhook-subscriptions"): Row(ADMIN, 200, "client"),
    ("GET", "/webhook-subscriptions/{webhook_subscription_id}"): Row(ADMIN, 200, "subscription"),
    ("PATCH", "/webhook-subscriptions/{webhook_subscription_id}"): Row(
        ADMIN, 200, "subscription", body={"description": "台账同步"}, if_match=True, write="subscription"),
    ("POST", "/webhook-subscriptions/{webhook_subscription_id}/rotate-secret"): Row(
        ADMIN, 200, "subscription", if_match=True, write="subscription"),
    ("GET", "/webhook-deliveries"): Row(ADMIN, 200),
    ("POST", "/webhook-deliveries/{webhook_delivery_id}/replay"): Row(ADMIN, 200, "delivery", write="delivery"),
    # The change feed: any signed-in caller, filtered to what it may read (the matrix client's only
    # scope, organisations:read, reads no event type: an empty page).
    ("GET", "/events"): Row(EVERYONE, 200, lists="feed_event"),
    # Notifications are people's: users only (403 for the client); someone else's notification is 404.
    ("GET", "/me/notifications"): Row(USERS, 200),
    ("GET", "/me/notifications/digest"): Row(USERS, 200),
    ("POST", "/me/notifications/{notification_id}/read"): Row(
        USERS, 404, path={"notification_id": "0193a5c2-7d1e-7c4b-9a55-3f1f6f0c2b61"}),
    ("GET", "/me/notification-settings"): Row(USERS, 200),
    ("PUT", "/me/notification-settings"): Row(USERS, 200, body={"digest": "daily"}, write="self"),

    # The audit trail: audit:read for admins and offices in scope; the chain check for admins.
    ("GET", "/audit-events"): Row(AUDIT_READERS, 200, "event", out=200, lists="event",
                                  query={"organisation_id": "{org}", "resource_type": "{token}", **PAGE}),
    ("GET", "/audit-events/verify"): Row(ADMIN, 200),
    ("GET", "/audit-events/{seq}"): Row(AUDIT_READERS, 200, "event"),

    # Duty lists (DOMAIN.md "Duty lists"). Each relation's organisation has a draft list with one item
    # under its province's profile (Hainan's for ours: no review or approval, 000 §(七)). Reads: every
    # role in scope. Writes: duty_lists:write, then the transition table at the list's own organisation:
    # staff draft and revise, the leader submits, publishes and retires, offices review, leadership approves.
    ("POST", "/duty-lists"): Row(  # only staff of the organisation itself; env already has its list
        DUTY_WRITERS, 409, "org", out=403, acts=frozenset({"staff"}), write="new:duty_list",
        body={"organisation_id": "{org}", "title": "清单"}),
    ("GET", "/duty-lists"): Row(DUTY_READERS, 200, "duty_list", out=200, lists="duty_list",
                                query={"organisation_id": "{org}", **PAGE}),
    ("GET", "/duty-lists/{duty_list_id}"): Row(DUTY_READERS, 200, "duty_list"),
    ("PATCH", "/duty-lists/{duty_list_id}"): Row(DUTY_WRITERS, 200, "duty_list", acts=frozenset({"staff"}),
                                                 body={"title": "新标题"}, if_match=True, write="duty_list"),
    ("POST", "/duty-lists/{duty_list_id}/submit"): Row(  # Hainan has no sign-off step: 409, publish instead
        DUTY_WRITERS, 409, "duty_list", acts=frozenset({"leader"}), body={}, if_match=True, write="duty_list"),
    ("POST", "/duty-lists/{duty_list_id}/review"): Row(  # a draft is not under review
        DUTY_WRITERS, 409, "duty_list", acts=frozenset({"office"}), body={}, if_match=True, write="duty_list"),
    ("POST", "/duty-lists/{duty_list_id}/approve"): Row(
        DUTY_WRITERS, 409, "duty_list", acts=frozenset({"leadership"}), body={}, if_match=True,
        write="duty_list"),
    ("POST", "/duty-lists/{duty_list_id}/return"): Row(
        DUTY_WRITERS, 409, "duty_list", acts=frozenset({"office", "leadership"}), body={"comment": "退回"},
        if_match=True, write="duty_list"),
    ("POST", "/duty-lists/{duty_list_id}/publish"): Row(
        DUTY_WRITERS, 200, "duty_list", acts=frozenset({"leader"}), if_match=True, write="duty_list",
        body={"portal_url": "https://example.gov.cn/qd"}),
    ("POST", "/duty-lists/{duty_list_id}/revise"): Row(  # only a published list is revised
        DUTY_WRITERS, 409, "duty_list", acts=frozenset({"staff"}), body={}, if_match=True, write="duty_list"),
    ("POST", "/duty-lists/{duty_list_id}/retire"): Row(
        DUTY_WRITERS, 409, "duty_list", acts=frozenset({"leader"}), body={}, if_match=True, write="duty_list"),
    ("GET", "/duty-lists/{duty_list_id}/history"): Row(DUTY_READERS, 200, "duty_list"),
    ("GET", "/duty-lists/{duty_list_id}/diff"): Row(DUTY_READERS, 200, "duty_list"),
    ("GET", "/duty-lists/{duty_list_id}/items"): Row(DUTY_READERS, 200, "duty_list", lists="item"),
    ("POST", "/duty-lists/{duty_list_id}/items"): Row(
        DUTY_WRITERS, 201, "duty_list", acts=frozenset({"staff"}), write="new:item",
        body={"title": "新事项", "domain": "water"}),
    ("POST", "/duty-lists/{duty_list_id}/items/imports"): Row(  # who adds one item, a spreadsheet of them
        DUTY_WRITERS, 201, "duty_list", acts=frozenset({"staff"}), write="new:item",
        files={"file": ["具体事项.csv", "事项名称,领域\r\n新事项 {caller} {rel},water\r\n", "text/csv"]}),
    ("GET", "/duty-lists/{duty_list_id}/items/imports/{batch_id}"): Row(  # its answer again: the list's readers
        DUTY_READERS, 200, "duty_list_import_batch"),
    ("GET", "/imports/templates/responsibility-items"): Row(DUTY_READERS, 200),
    # The portal: anyone; the world's lists are drafts, so every one of them is 404 to everybody.
    ("GET", "/public/duty-lists"): Row(PUBLIC, 200),
    ("GET", "/public/duty-lists/{duty_list_id}"): Row(PUBLIC, 404, "duty_list"),
    ("GET", "/public/duty-lists/{duty_list_id}/items"): Row(PUBLIC, 404, "duty_list"),
    ("GET", "/public/organisations/{organisation_id}/duty-list"): Row(PUBLIC, 404, "org"),
    ("GET", "/duty-list-obligations"): Row(DUTY_READERS, 200),  # its scoping: tests/routers/test_duty_list_obligations.py
    ("GET", "/responsibility-items"): Row(DUTY_READERS, 200, "item", out=200, lists="item",
                                          query={"organisation_id": "{org}", **PAGE}),
    ("GET", "/responsibility-items/{item_id}"): Row(DUTY_READERS, 200, "item"),
    ("PATCH", "/responsibility-items/{item_id}"): Row(DUTY_WRITERS, 200, "item", acts=frozenset({"staff"}),
                                                      body={"title": "改"}, if_match=True, write="item"),
    ("DELETE", "/responsibility-items/{item_id}"): Row(DUTY_WRITERS, 204, "item", acts=frozenset({"staff"}),
                                                       if_match=True, write="item", prep="item"),
    # Lead decisions: visible when a party lies in scope (the requester, for these targets). A leader
    # raises matters for its own organisation; the steps belong to the convenor's office and the
    # decider's leadership (000 §(八)), and no matrix caller sits at either, so the workflow refuses
    # every step in scope (403 action_forbidden) and out of scope the decision is not found. The
    # successes: tests/routers/test_lead_decisions.py and tests/routers/test_lead_decision_matrix.py.
    ("POST", "/lead-decisions"): Row(
        frozenset({"leader"}), 201, "org", out=403, write="new:lead_decision",
        body={"organisation_id": "{org}", "title": "事项 {caller} {rel}", "scope_tests": ["no_lead"]},
        cells={("leader", "child"): (403, "a leader at env raises matters for env, not for env_unit")}),
    ("GET", "/lead-decisions"): Row(LD_READERS, 200, "lead_decision", out=200, lists="lead_decision",
                                    query={"organisation_id": "{org}", **PAGE}),
    ("GET", "/lead-decisions/{lead_decision_id}"): Row(LD_READERS, 200, "lead_decision"),
    ("PATCH", "/lead-decisions/{lead_decision_id}"): Row(
        LD_WRITERS, 200, "lead_decision", body={"title": "改名"}, if_match=True, write="lead_decision",
        cells={**{(role, rel): (403, "neither the requester's leader nor the convenor's office")
                  for role in ("admin", "office", "leadership") for rel in ("same", "child")},
               ("leader", "child"): (403, "the requester is env_unit; the caller leads env")}),
    **{("POST", f"/lead-decisions/{{lead_decision_id}}/{action}"): Row(
        LD_WRITERS, 403, "lead_decision", body=body, if_match=True, write="lead_decision")
       for action, body in (("accept", {}), ("approve", {}), ("withdraw", {}), ("return", {"comment": "退回"}),
                            ("publish", {"portal_url": "https://www.hainan.gov.cn/ld"}),
                            ("propose", {"lead_organisation_ids": ["{env}"], "rationale": "职责"}),
                            ("decide", {"lead_organisation_ids": ["{env}"], "rationale": "职责"}))},
    ("POST", "/lead-decisions/{lead_decision_id}/opinions"): Row(
        LD_WRITERS, 403, "lead_decision", body={"organisation_id": "{org}", "stance": "agree"},
        write="lead_decision",  # participants: the requester itself
        cells={("leader", "same"): (409, "env's leader, env a participant, but still requested: not consulting")}),
    ("GET", "/lead-decisions/{lead_decision_id}/opinions"): Row(LD_READERS, 200, "lead_decision"),
    ("GET", "/lead-decisions/{lead_decision_id}/history"): Row(LD_READERS, 200, "lead_decision"),
    # Public disclosure: anyone; the matrix decisions are unpublished, so nobody finds them there.
    ("GET", "/public/lead-decisions"): Row(PUBLIC, 200),
    ("GET", "/public/lead-decisions/{lead_decision_id}"): Row(PUBLIC, 404, "lead_decision"),
    # Reports (DOMAIN.md "Reports"): reads for every role that sees the report (the filer's subtree
    # here), writes for reports:write, then the workflow: staff start, the filer's leader submits and
    # publishes; the recipient (海南省, out of scope) receives, accepts, returns, so those are 403 in scope.
    # Generating needs an admin at the province root or its coordinating office: nobody at env.
    ("POST", "/report-obligations"): Row(REPORT_WRITERS, 403, body={"jurisdiction_id": "{hainan}", "year": 2024}),
    # Ad hoc reports (004 §八): Hainan's profile has no as-needed rule, so in scope the rule is refused (422);
    # out of scope the organisation is a body reference (422). Successes: tests/routers/test_report_ad_hoc.py.
    ("POST", "/reports"): Row(REPORT_WRITERS, 422, "org", out=422, write="new:report",
                              body={"organisation_id": "{org}", "rule_id": "reports.ad_hoc_to_vice_governor",
                                    "title": "及时报告"}),
    ("GET", "/reports"): Row(REPORT_READERS, 200, "report", out=200, lists="report",
                             query={"organisation_id": "{org}", **PAGE}),
    ("GET", "/report-compliance"): Row(REPORT_READERS, 200, "report", out=200,
                                        query={"period_year": "2024", "organisation_id": "{org}"}),
    ("GET", "/reports/{report_id}"): Row(REPORT_READERS, 200, "report"),
    ("GET", "/reports/{report_id}/history"): Row(REPORT_READERS, 200, "report"),
    ("PATCH", "/reports/{report_id}"): Row(REPORT_WRITERS, 200, "report", body=DRAFT_CONTENT, if_match=True,
                                           write="report", prep="report:draft", cells=at_filer("staff", "leader")),
    # A due date by hand (DOMAIN.md "Jurisdiction profiles"): only the office of the recipient (海南省, the
    # root, outside every caller's scope) or of the province's 督察领导小组办公室 (its own organisation
    # here), so every writer in scope is refused. Successes: tests/routers/test_report_due_date.py.
    ("PUT", "/reports/{report_id}/due-date"): Row(REPORT_WRITERS, 403, "report", body={"due_date": "2025-03-31"},
                                                  if_match=True, write="report", prep="report:pending"),
    ("POST", "/reports/{report_id}/start"): Row(REPORT_WRITERS, 200, "report", if_match=True, write="report",
                                                prep="report:pending", cells=at_filer("staff")),
    ("POST", "/reports/{report_id}/submit"): Row(REPORT_WRITERS, 200, "report", if_match=True, write="report",
                                                 prep="report:draft", cells=at_filer("leader")),
    ("POST", "/reports/{report_id}/receive"): Row(REPORT_WRITERS, 403, "report", if_match=True, write="report",
                                                  prep="report:submitted"),
    ("POST", "/reports/{report_id}/accept"): Row(REPORT_WRITERS, 403, "report", if_match=True, write="report",
                                                 prep="report:received"),
    ("POST", "/reports/{report_id}/return"): Row(REPORT_WRITERS, 403, "report", body={"comment": "请补充"},
                                                 if_match=True, write="report", prep="report:submitted"),
    ("POST", "/reports/{report_id}/publish"): Row(REPORT_WRITERS, 200, "report", if_match=True, write="report",
                                                  prep="report:accepted", cells=at_filer("leader")),
    # Published reports, for anyone (000 §(十二)); the target is env's report, published for the cell.
    ("GET", "/public/reports"): Row(PUBLIC, 200),
    ("GET", "/public/reports/{report_id}"): Row(PUBLIC, 200, prep="report:published"),
    **FINDING_POLICY,
    **ATTACHMENT_POLICY,
    **ESCALATION_POLICY,
}


def cells_of(row: Row) -> list[tuple[str, str | None]]:
    """(caller, relation) pairs of a row: every role × relation plus anonymous, or one per caller."""
    if row.target is None:
        return [(caller, None) for caller in (*ROLES, ANONYMOUS)]
    relations = USER_RELATIONS if row.target in ("user", "membership") else RELATIONS
    return [(role, relation) for role in ROLES for relation in relations] + [(ANONYMOUS, "same")]


def expected(row: Row, caller: str, relation: str | None) -> int:
    """The status a cell must answer: 401 without a token, 403 for a role the route is not
    for, 404 (or the row's `out`) outside the caller's subtree, else the row's success."""
    if (caller, relation) in row.cells:
        return row.cells[(caller, relation)][0]
    if row.who == PUBLIC:
        return row.ok
    if caller == ANONYMOUS:
        return 401
    if caller not in row.who:
        return 403
    if row.target is None or relation in IN_SCOPE:
        if row.acts is not None and (caller not in row.acts or relation == "child"):
            return 403
        return row.ok
    return row.out

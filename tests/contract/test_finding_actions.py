"""Every action of the finding, measure and extension tables has a route, and every action route an action
(CONVENTIONS.md "A test checks that every action in a table has a route and every action route has a
table entry"). The path is the action in kebab-case (DOMAIN.md: `submit_plan` → `POST /findings/{id}/submit-plan`);
three actions are taken through the record they create, said here by hand.
"""

from __future__ import annotations

from app.core.routes import iter_routes
from app.main import create_app
from app.workflows.accountability_cases import CASE_WORKFLOW
from app.workflows.escalations import ESCALATION_WORKFLOW
from app.workflows.findings import EXTENSION_WORKFLOW, FINDING_WORKFLOW
from app.workflows.measures import MEASURE_WORKFLOW

PREFIXES = {FINDING_WORKFLOW: "/findings/{finding_id}/", MEASURE_WORKFLOW: "/measures/{measure_id}/",
            EXTENSION_WORKFLOW: "/findings/{finding_id}/extension-requests/{extension_request_id}/",
            ESCALATION_WORKFLOW: "/escalations/{escalation_id}/", CASE_WORKFLOW: "/accountability-cases/{case_id}/"}
# Actions whose route is the record they create: a look-back (passed → look_back, rebounded → rebound),
# a progress update, an extension request.
THROUGH_RECORDS = {"look_back": "/findings/{finding_id}/lookbacks", "rebound": "/findings/{finding_id}/lookbacks",
                   "report_progress": "/findings/{finding_id}/progress-updates",
                   "request_extension": "/findings/{finding_id}/extension-requests"}
NOT_ACTIONS = {"/findings/{finding_id}/lookbacks", "/findings/{finding_id}/progress-updates",
               "/findings/{finding_id}/extension-requests",
               "/findings/{finding_id}/escalations",  # escalations about the finding: a record of their own
               "/findings/{finding_id}/attachments"}  # evidence files: a record, no workflow step


def _posts() -> set[str]:
    return {r.path for r in iter_routes(create_app().router.routes) if "POST" in (getattr(r, "methods", None) or ())}


def test_every_action_has_its_route():
    posts = _posts()
    missing = []
    for table, prefix in PREFIXES.items():
        for action in table.actions:
            path = THROUGH_RECORDS.get(action) if table is FINDING_WORKFLOW and action in THROUGH_RECORDS \
                else prefix + action.replace("_", "-")
            if path not in posts:
                missing.append(f"{table.resource}.{action} → POST {path}")
    assert missing == []


def test_every_action_route_is_an_action():
    actions = {prefix + a.replace("_", "-") for table, prefix in PREFIXES.items() for a in table.actions}
    strays = []
    for path in _posts():
        for prefix in PREFIXES.values():
            tail = path.removeprefix(prefix)
            if path.startswith(prefix) and "/" not in tail and "{" not in tail and path not in actions \
                    and path not in NOT_ACTIONS:
                strays.append(path)
    assert sorted(strays) == []

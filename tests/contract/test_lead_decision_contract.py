"""Lead decisions against their contract: every action of the table has its route and every action
route its table entry (CONVENTIONS.md "Workflows are data"), every step names the body that takes
it, and every new enum has its labels (GET /meta/enums)."""

from __future__ import annotations

import re

from app.main import create_app
from app.models import DecisionLevel, LeadDecisionStatus, OpinionStance, PartyRole
from app.profiles.schema import LeadScope
from app.services.lead_decisions.access import ACTING_BODY
from app.workflows.lead_decisions import LEAD_DECISION_WORKFLOW

ACTION_PATH = re.compile(r"^/lead-decisions/\{lead_decision_id\}/([a-z-]+)$")
SUB_COLLECTIONS = {"history", "opinions"}


def test_every_table_action_has_a_route_and_every_action_route_an_action():
    paths = create_app().openapi()["paths"]
    routes = {m.group(1).replace("-", "_") for p, ops in paths.items() if "post" in ops
              and (m := ACTION_PATH.match(p)) and m.group(1) not in SUB_COLLECTIONS}
    assert routes == set(LEAD_DECISION_WORKFLOW.actions)


def test_every_action_names_the_body_that_takes_it():
    # DOMAIN.md: the convenor's office or leadership, or the decider's leadership.
    assert set(ACTING_BODY) == set(LEAD_DECISION_WORKFLOW.actions)
    assert set(ACTING_BODY.values()) == {PartyRole.convenor, PartyRole.decider}


async def test_new_enums_have_chinese_and_english_labels(client):
    enums = (await client.get("/meta/enums")).json()["enums"]
    for name, cls in (("lead_decision_status", LeadDecisionStatus), ("decision_level", DecisionLevel),
                      ("lead_decision_party_role", PartyRole), ("opinion_stance", OpinionStance),
                      ("lead_scope", LeadScope)):
        assert [v["value"] for v in enums[name]] == [m.value for m in cls]
        assert all(v["zh"] and v["en"] for v in enums[name])

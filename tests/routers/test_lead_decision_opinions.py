"""/lead-decisions/{id}/opinions: each participating organisation's opinion during consultation
(研究会商: 000 §(八) "牵头组织研究会商", 002 §(六) "组织有关部门研究会商", 003 §(七)).

One per participant, recorded by its leader; agree, or disagree with a reason; only while consulting.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.core.etag import make_etag
from app.models import LeadDecision, LeadDecisionOpinion
from tests.factories import problem
from tests.factories_lead import make_decision, proposal_body, province

URL = "/lead-decisions/{}/opinions"


@pytest.fixture
async def hainan(database):
    return await province(database, "hainan")


async def decision_in(database, p, status: str, **kw) -> LeadDecision:
    async with database.transaction() as s:
        return await make_decision(s, p, status, **{"participants": ("agri", "nr"), **kw})


def opinion(p, org: str, stance: str = "agree", reason: str | None = None) -> dict:
    body = {"organisation_id": p.id(org), "stance": stance}
    if reason is not None:
        body["reason"] = reason
    return body


async def count_opinions(database) -> int:
    async with database.transaction(write=False) as s:
        return await s.scalar(select(func.count()).select_from(LeadDecisionOpinion))


class TestRecordOpinion:
    async def test_a_participants_leader_agrees_and_the_decision_shows_it(self, client, hainan, database):
        d = await decision_in(database, hainan, "consulting")
        before = await client.get(f"/lead-decisions/{d.id}", headers=hainan.headers("agri_leader"))
        assert before.json()["opinion_organisation_ids"] == [hainan.id("agri")]
        r = await client.post(URL.format(d.id), json=opinion(hainan, "agri"), headers=hainan.headers("agri_leader"))
        assert r.status_code == 201, r.text
        body = r.json()
        assert {k: body[k] for k in ("decision_id", "organisation_id", "organisation_name", "stance", "reason",
                                     "recorded_by_name")} == {
            "decision_id": str(d.id), "organisation_id": hainan.id("agri"), "organisation_name": "海南省农业农村厅",
            "stance": "agree", "reason": None, "recorded_by_name": "hainan.agri_leader"}
        after = await client.get(f"/lead-decisions/{d.id}", headers=hainan.headers("agri_leader"))
        # Recording an opinion moves the decision's version: a stale proposal gets 412 (below).
        assert (after.json()["opinions_count"], after.json()["version"], after.json()["opinion_organisation_ids"]) \
            == (1, 2, [])
        listed = await client.get(URL.format(d.id), headers=hainan.headers("convenor_office"))
        assert [o["id"] for o in listed.json()["items"]] == [body["id"]]

    async def test_one_opinion_per_participant(self, client, hainan, database):
        d = await decision_in(database, hainan, "consulting")
        first = await client.post(URL.format(d.id), json=opinion(hainan, "agri"), headers=hainan.headers("agri_leader"))
        assert first.status_code == 201
        again = await client.post(URL.format(d.id), json=opinion(hainan, "agri", "disagree", "改变主意"),
                                  headers=hainan.headers("agri_leader"))
        assert problem(again) == {"type": "https://envduty.example/problems/opinion-already-recorded",
                                  "title": "This organisation has already given its opinion", "status": 409,
                                  "code": "opinion_already_recorded",
                                  "detail": "海南省农业农村厅 has already given its opinion on this decision; one per "
                                            "participant."}
        assert await count_opinions(database) == 1

    async def test_a_disagreement_needs_a_reason(self, client, hainan, database):
        d = await decision_in(database, hainan, "consulting")
        for reason in (None, "  "):
            r = await client.post(URL.format(d.id), json=opinion(hainan, "nr", "disagree", reason),
                                  headers=hainan.headers("nr_leader"))
            assert problem(r) == {"type": "https://envduty.example/problems/validation-failed",
                                  "title": "Request is not valid", "status": 422, "code": "validation_failed",
                                  "detail": "One or more fields are invalid; see errors.",
                                  "errors": [{"pointer": "/reason", "source": "body", "type": "reason_required",
                                              "message": "say why you disagree"}]}
        r = await client.post(URL.format(d.id), json=opinion(hainan, "nr", "disagree", "属自然资源部门以外职责"),
                              headers=hainan.headers("nr_leader"))
        assert (r.status_code, r.json()["reason"]) == (201, "属自然资源部门以外职责")

    @pytest.mark.parametrize("status", ["requested", "proposed", "approved", "published", "withdrawn"])
    async def test_outside_consultation_is_409(self, client, hainan, database, status):
        d = await decision_in(database, hainan, status)
        r = await client.post(URL.format(d.id), json=opinion(hainan, "agri"), headers=hainan.headers("agri_leader"))
        assert problem(r) == {"type": "https://envduty.example/problems/lead-decision-not-consulting",
                              "title": "Opinions are recorded only during consultation", "status": 409,
                              "code": "lead_decision_not_consulting",
                              "detail": f"The decision is {status}; opinions are recorded while consulting."}
        assert await count_opinions(database) == 0

    async def test_a_non_participant_is_403(self, client, hainan, database):
        d = await decision_in(database, hainan, "consulting")
        # The requester (水利厅) is no participant here; the convenor's office records nothing itself.
        for user, org in (("water_leader", "water"), ("convenor_office", "agri"), ("water_leader", "agri")):
            r = await client.post(URL.format(d.id), json=opinion(hainan, org), headers=hainan.headers(user))
            assert problem(r) == {"type": "https://envduty.example/problems/forbidden", "title": "Not allowed",
                                  "status": 403, "code": "forbidden",
                                  "detail": "Only a leader of a participating organisation records its opinion."}
        r = await client.post(URL.format(d.id), json=opinion(hainan, "agri"), headers=hainan.headers("water_staff"))
        assert r.status_code == 403
        assert await count_opinions(database) == 0

    async def test_out_of_scope_is_404(self, client, hainan, database):
        d = await decision_in(database, hainan, "consulting", requester=None, participants=())
        r = await client.post(URL.format(d.id), json=opinion(hainan, "agri"), headers=hainan.headers("agri_leader"))
        assert r.status_code == 404
        assert (await client.get(URL.format(d.id), headers=hainan.headers("agri_leader"))).status_code == 404
        assert (await client.get(URL.format(uuid.uuid4()), headers=hainan.headers("agri_leader"))).status_code == 404

    async def test_a_proposal_on_an_etag_read_before_an_opinion_is_stale(self, client, hainan, database):
        d = await decision_in(database, hainan, "consulting")
        tag = make_etag(d.id, 1)
        await client.post(URL.format(d.id), json=opinion(hainan, "agri"), headers=hainan.headers("agri_leader"))
        r = await client.post(f"/lead-decisions/{d.id}/propose", json=proposal_body(hainan),
                              headers={**hainan.headers("convenor_office"), "If-Match": tag})
        assert (r.status_code, r.json()["current_etag"]) == (412, make_etag(d.id, 2))

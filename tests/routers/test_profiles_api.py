"""Profiles over HTTP: public, versioned, deadlines computed on the holiday calendar."""

from __future__ import annotations


class TestProfiles:
    async def test_lists_the_four_shipped_profiles(self, client):
        r = await client.get("/profiles")
        assert r.status_code == 200
        assert [p["code"] for p in r.json()["items"]] == ["hainan", "henan", "hubei", "shandong"]

    async def test_unknown_profile_is_404_problem(self, client):
        r = await client.get("/profiles/atlantis")
        assert r.status_code == 404 and r.json()["code"] == "not_found"

    async def test_hainan_first_publication_deadline_is_flagged_sunday(self, client):
        # 000 §(七): duty lists within two months of 2024-03-12 → 2024-05-12, a Sunday: kept and flagged.
        items = (await client.get("/profiles/hainan/deadlines", params={"year": 2024})).json()["items"]
        first = next(i for i in items if i["rule"] == "duty_list.first_publication")
        assert (first["due_date"], first["falls_on_rest_day"], first["clause"]) == ("2024-05-12", True, "000 §(七)")

    async def test_henan_annual_report_falls_at_end_of_a_leap_february(self, client):
        # 002 §(十二): annual report by the end of February of the following year; 2024 is a leap year.
        items = (await client.get("/profiles/henan/deadlines", params={"year": 2023})).json()["items"]
        annual = next(i for i in items if i["rule"].startswith("reports.annual_duty_report"))
        assert annual["due_date"] == "2024-02-29"

"""参照落实 for reports: cities' and counties' own departments file where the text says so.

002 §(十二) "各省辖市、县(市、区)参照落实": a city's (county's) major-duty departments report to their
own 党委和政府, copied to their 上级主管部门 and their own 生态环境局, due as the province's rule
(end of February). 000 §(十二) says no such thing for reports (only §(七) for duty lists), so
Hainan's city departments file no annual duty report; 003 §(十二) has its own local rule.
"""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select

from app.models import AuditEvent, OrganisationKind, OrganisationLevel, Report, Role
from tests.factories import auth, designate, make_organisation, make_user
from tests.report_factories import BUILDERS, HENAN_12
from tests.routers.test_report_obligations import generate, names, obligations, rule

K, L = OrganisationKind, OrganisationLevel
LOCAL = "reports.annual_duty_report.local"


async def henan_with_local_departments(database):
    """Henan plus: 郑州's 水利局 (flagged) and 教育局 (not), its 生态环境局 flagged and designated,
    and 中牟县 under 郑州 with a flagged 水利局 whose 上级主管部门 is 郑州市水利局."""
    async with database.transaction() as s:
        p = await BUILDERS["henan"](s)
        zz_gov = p.org("zhengzhou_gov")
        p.org("zhengzhou_env").major_duty = True
        p.orgs["zz_water"] = await make_organisation(s, "郑州市水利局", level=L.city, parent=zz_gov, major_duty=True,
                                                     superior_department_id=p.org("water").id)
        p.orgs["zz_edu"] = await make_organisation(s, "郑州市教育局", level=L.city, parent=zz_gov)
        await designate(s, p.org("zhengzhou"), "environment_department", p.org("zhengzhou_env"))
        county = await make_organisation(s, "中牟县", kind=K.region, level=L.county, parent=p.org("zhengzhou"))
        await make_organisation(s, "中共中牟县委", kind=K.party_committee, level=L.county, parent=county)
        zm_gov = await make_organisation(s, "中牟县人民政府", kind=K.government, level=L.county, parent=county)
        p.orgs["zm_water"] = await make_organisation(s, "中牟县水利局", level=L.county, parent=zm_gov,
                                                     major_duty=True, superior_department_id=p.org("zz_water").id)
        admin = await make_user(s, "t.henan.admin", (p.root, Role.admin))
    return p, admin


def copies(entry: dict) -> list[tuple[str, str, str]]:
    return [party for party in entry["parties"] if party[0].startswith("copy")]


class TestHenanCitiesAndCountiesFollowByAnalogy:
    async def test_city_and_county_major_duty_departments_report_to_their_own_party_committee_and_government(
            self, client, database):
        # 002 §(十二): …要于每年2月底前向省委和省政府报告…专题报告应同时抄送上级主管部门、省生态环境厅。
        # 各省辖市、县(市、区)参照落实。
        p, admin = await henan_with_local_departments(database)
        body = await generate(client, p, admin, 2024)
        local_rule = rule(body, LOCAL)
        assert (local_rule["clause"], local_rule["kind"], local_rule["periods"], local_rule["obligations"]) == \
            ("002 §(十二)", "annual_duty_report", ["2024"], 3)
        assert (local_rule["due"]["due_date"], local_rule["due"]["undated"]) == ("2025-02-28", False)
        rows = await obligations(database, LOCAL, "2024")
        assert sorted(rows) == ["中牟县水利局", "郑州市水利局", "郑州市生态环境局"]  # not the unflagged 教育局
        city = rows["郑州市水利局"]
        assert names(city, "recipient") == ["郑州市人民政府", "中共郑州市委"]  # its own 党委和政府, not 省委、省政府
        assert city["report"].recipient_label == "郑州市人民政府、中共郑州市委"
        assert copies(city) == [("copy_across", "河南省水利厅", "filer"), ("copy_across", "郑州市生态环境局", "filer")]
        assert city["report"].unresolved == []
        assert (city["report"].due_date, city["report"].clause) == (date(2025, 2, 28), "002 §(十二)")
        assert city["report"].content_required == ["duty_performance", "lead_item_implementation"]
        assert city["report"].publication_where == "own_portal"  # 002 §(十三), 参照落实 too
        assert copies(rows["郑州市生态环境局"]) == [("copy_across", "河南省生态环境厅", "filer")]  # never to itself
        county = rows["中牟县水利局"]
        assert names(county, "recipient") == ["中牟县人民政府", "中共中牟县委"]
        assert copies(county) == [("copy_across", "郑州市水利局", "filer")]
        assert county["report"].unresolved == [{  # 中牟县 has no designated 生态环境局: said, not guessed
            "role": "copy_across", "organisation_role": "environment_department",
            "reason": "no organisation is designated for environment_department in 中牟县"}]

    async def test_the_provincial_rule_still_covers_only_the_cities_and_the_12(self, client, database):
        p, admin = await henan_with_local_departments(database)
        await generate(client, p, admin, 2024)
        rows = await obligations(database, "reports.annual_duty_report", "2024")
        assert sorted(rows) == sorted([*HENAN_12, "郑州市人民政府", "济源示范区管委会"])
        assert names(rows["郑州市人民政府"], "recipient") == ["河南省人民政府", "中共河南省委"]

    async def test_a_second_run_creates_nothing(self, client, database):
        p, admin = await henan_with_local_departments(database)
        first = await generate(client, p, admin, 2024)
        second = await generate(client, p, admin, 2024)
        assert (rule(first, LOCAL)["created"], rule(second, LOCAL)["created"]) == (3, 0)
        assert second["created"] == 0
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).where(Report.rule_id == LOCAL)) == 3
            assert await s.scalar(select(func.count()).where(AuditEvent.action == "report.generate",
                                                             AuditEvent.organisation_id == p.root.id)) == 1

    async def test_simultaneous_runs_create_each_local_obligation_once(self, client, database):
        p, admin = await henan_with_local_departments(database)
        start = asyncio.Event()
        payload = {"jurisdiction_id": str(p.root.id), "year": 2024}

        async def one():
            await start.wait()
            return await client.post("/report-obligations", headers=auth(admin), json=payload)

        tasks = [asyncio.create_task(one()) for _ in range(4)]
        await asyncio.sleep(0.05)
        start.set()
        answers = await asyncio.gather(*tasks)
        assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
        assert sum(rule(a.json(), LOCAL)["created"] for a in answers) == 3
        async with database.transaction(write=False) as s:
            keys = (await s.execute(select(Report.organisation_id, Report.period).where(Report.rule_id == LOCAL))).all()
        assert len(keys) == len(set(keys)) == 3


class TestTextsWithoutAnAnalogyForReports:
    async def test_hainan_city_departments_file_no_annual_report_only_the_city_party_and_government(
            self, client, database):
        # 000 §(十二) names 各市县党委政府 and the 省直部门; "市县参照落实" is §(七)'s (duty lists), not §(十二)'s.
        async with database.transaction() as s:
            p = await BUILDERS["hainan"](s)
            p.org("haikou_env").major_duty = True
            admin = await make_user(s, "t.hainan.admin", (p.root, Role.admin))
        body = await generate(client, p, admin, 2024)
        assert not [r for r in body["rules"] if r["rule_id"].endswith(".local")]
        async with database.transaction(write=False) as s:
            filed_by_bureau = await s.scalar(select(func.count()).where(Report.organisation_id == p.org("haikou_env").id))
        assert filed_by_bureau == 0
        annual = await obligations(database, "reports.annual_duty_report", "2024")
        assert names(annual["海口市人民政府"], "recipient") == ["海南省人民政府", "中共海南省委"]
        assert names(annual["琼海市人民政府"], "recipient") == ["海南省人民政府", "中共海南省委"]  # a county: 市县

    async def test_hubei_local_departments_keep_their_own_undated_rule(self, client, database):
        # 003 §(十二): 地方有关职能部门每年向同级党委和政府报告 — its own rule, no analogy, no day.
        async with database.transaction() as s:
            p = await BUILDERS["hubei"](s)
            admin = await make_user(s, "t.hubei.admin", (p.root, Role.admin))
        body = await generate(client, p, admin, 2024)
        assert not [r for r in body["rules"] if r["rule_id"].endswith(".local")]
        local = await obligations(database, "reports.annual_duty_report.local_departments", "2024")
        assert (local["武汉市生态环境局"]["report"].due_date, local["武汉市生态环境局"]["report"].undated) == (None, True)

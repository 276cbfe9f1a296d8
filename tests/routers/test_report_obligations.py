"""POST /report-obligations: each profile's report calendar, reproduced from its text.

Trees: tests/report_factories.py (the texts' department lists, a city or two, the national
bodies that are the departments' 上级主管部门, the designations the roles need).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, CoordinationMember, Organisation, Report, ReportParty, Role
from tests.factories import auth, make_organisation, make_user, problem
from tests.report_factories import BUILDERS, HAINAN_16, HENAN_12, HUBEI_13, SHANDONG_15

URL = "/report-obligations"


async def setup(database, code: str):
    async with database.transaction() as s:
        p = await BUILDERS[code](s)
        admin = await make_user(s, f"t.{code}.admin", (p.root, Role.admin))
    return p, admin


async def generate(client, p, admin, year: int, expect: int = 200) -> dict:
    r = await client.post(URL, headers=auth(admin), json={"jurisdiction_id": str(p.root.id), "year": year})
    assert r.status_code == expect, r.text
    return r.json()


async def obligations(database, rule_id: str, period: str | None = None) -> dict[str, dict]:
    """Per filer name: the report row and its parties as (role, name, sent_by)."""
    async with database.transaction(write=False) as s:
        query = select(Report, Organisation.name).join(Organisation, Organisation.id == Report.organisation_id) \
            .where(Report.rule_id == rule_id)
        if period:
            query = query.where(Report.period == period)
        out = {}
        for report, name in (await s.execute(query)).all():
            parties = (await s.execute(select(ReportParty.role, Organisation.name, ReportParty.sent_by)
                                       .join(Organisation, Organisation.id == ReportParty.organisation_id)
                                       .where(ReportParty.report_id == report.id)
                                       .order_by(ReportParty.position))).all()
            out[f"{name}/{report.period}" if period is None else name] = {
                "report": report, "parties": [(r.value, n, by) for r, n, by in parties]}
        return out


def names(entry: dict, role: str) -> list[str]:
    return [n for r, n, _ in entry["parties"] if r == role]


def rule(body: dict, rule_id: str) -> dict:
    return next(r for r in body["rules"] if r["rule_id"] == rule_id)


class TestHainan:
    """000: 琼环督字〔2024〕2号, issued 2024-03-12."""

    async def test_annual_reports_are_due_jan_31_and_2025s_falls_inside_the_spring_festival(self, client, database):
        # 000 §(十二): 各市县党委政府和承担重要生态环境保护职责的省直部门应于每年1月底前向省委、省政府报告上年度…
        p, admin = await setup(database, "hainan")
        body = await generate(client, p, admin, 2024)
        annual = rule(body, "reports.annual_duty_report")
        assert annual["due"] == {"due_date": "2025-01-31", "undated": False, "falls_on_rest_day": True,
                                 "calendar_estimated": False, "rule_text": "by the end of Jan of the following year",
                                 "rule_text_zh": "次年1月底前", "cadence": None,
                                 "set_by_hand": False, "set_by_organisation_id": None}
        rows = await obligations(database, "reports.annual_duty_report", "2024")
        # The 16 of 000 §(七) plus 海口 (a city) and 琼海 (a county under the province), each 党委 and 政府 jointly.
        assert sorted(rows) == sorted([*HAINAN_16, "海口市人民政府", "琼海市人民政府"])
        assert names(rows["海口市人民政府"], "filer") == ["海口市人民政府", "中共海口市委"]
        for entry in rows.values():
            report = entry["report"]
            assert (report.due_date, report.due_on_rest_day, report.clause) == (date(2025, 1, 31), True, "000 §(十二)")
            assert names(entry, "recipient") == ["海南省人民政府", "中共海南省委"]  # 省委、省政府 jointly
            assert report.publication_where == "own_portal"  # 在本部门门户网站向社会公开

    async def test_annual_report_copies_go_to_the_superior_department_and_the_environment_department(
            self, client, database):
        # 000 §(十二): 年度报告应同时抄送上级主管部门、省生态环境厅等
        p, admin = await setup(database, "hainan")
        await generate(client, p, admin, 2024)
        rows = await obligations(database, "reports.annual_duty_report", "2024")
        water = rows["海南省水务厅"]
        assert [(r, n, by) for r, n, by in water["parties"] if r.startswith("copy")] == [
            ("copy_across", "水利部", "filer"), ("copy_across", "海南省生态环境厅", "filer")]
        assert names(rows["海南省生态环境厅"], "copy_across") == ["生态环境部"]  # never a copy to itself
        assert names(rows["海口市人民政府"], "copy_across") == ["海南省生态环境厅"]  # a 党委政府 has no 上级主管部门
        assert rows["海南省财政厅"]["report"].unresolved == [
            {"role": "copy_across", "organisation_role": "superior_department",
             "reason": "海南省财政厅 has no superior department set"}]

    async def test_semiannual_reports_go_to_the_vice_governor_in_charge_with_no_date(self, client, database):
        # 000 §(十二): 应每半年向省政府分管领导同志报告一次 — a person; no day given.
        p, admin = await setup(database, "hainan")
        body = await generate(client, p, admin, 2024)
        assert rule(body, "reports.semiannual_duty_report")["periods"] == ["2024-H1", "2024-H2"]
        rows = await obligations(database, "reports.semiannual_duty_report")
        assert sorted(rows) == sorted(f"{n}/2024-{h}" for n in HAINAN_16 for h in ("H1", "H2"))
        entry = rows["海南省水务厅/2024-H2"]
        report = entry["report"]
        assert (report.recipient_kind.value, report.recipient_label) == ("person", "省政府分管领导同志")
        assert names(entry, "recipient") == ["海南省人民政府"]
        assert (report.due_date, report.undated, report.due_cadence) == (None, True, "semiannual")
        assert (report.period_start, report.period_end) == (date(2024, 7, 1), date(2024, 12, 31))

    async def test_work_plans_go_by_end_of_february_to_the_corresponding_office(self, client, database):
        # 000 §(十): 在每年2月底前报送相应的省级议事协调机构的办事机构，由其统筹报批…并将相关情况抄送督察办
        p, admin = await setup(database, "hainan")
        async with database.transaction() as s:
            tourism = await make_organisation(s, "海南省旅游和文化广电体育厅", parent=p.org("gov"))
            s.add(CoordinationMember(body_id=p.org("water_body").id, member_id=tourism.id))
        body = await generate(client, p, admin, 2024)
        assert rule(body, "reports.annual_work_plan")["due"]["due_date"] == "2024-02-29"  # 2024 is a leap year
        rows = await obligations(database, "reports.annual_work_plan", "2024")
        assert len(rows) == 16 + 2 + 2  # 省直部门 (the 16, 教育厅, 旅文厅) and 海口, 琼海
        water = rows["海南省水务厅"]  # a member of both the 督察领导小组 and the 六水共治 指挥部
        assert sorted(names(water, "recipient")) == ["六水共治攻坚战指挥部办公室", "督察领导小组办公室"]
        assert names(rows["海南省教育厅"], "recipient") == ["督察领导小组办公室"]  # a member of none: 兜底 (000 §(八))
        tourism_plan = rows["海南省旅游和文化广电体育厅"]
        assert names(tourism_plan, "recipient") == ["六水共治攻坚战指挥部办公室"]
        assert [p for p in tourism_plan["parties"] if p[0] == "copy_across"] == [
            ("copy_across", "督察领导小组办公室", "recipient")]  # forwarded by the receiving office
        assert tourism_plan["report"].recipient_arranges_approval is True
        assert tourism_plan["report"].content_required == ["annual_goals", "quarterly_goals", "measures",
                                                           "responsible_units"]

    async def test_task_decomposition_is_due_three_months_after_issuance_once(self, client, database):
        # 000 §(九): 省直部门相关任务分解情况应在本文件印发三个月内抄送督察办 — 2024-03-12 + 3 months
        p, admin = await setup(database, "hainan")
        body = await generate(client, p, admin, 2024)
        assert rule(body, "reports.task_decomposition")["due"]["due_date"] == "2024-06-12"
        rows = await obligations(database, "reports.task_decomposition", "once")
        assert sorted(rows) == sorted([*HAINAN_16, "海南省教育厅"])
        assert names(rows["海南省商务厅"], "recipient") == ["督察领导小组办公室"]
        later = await generate(client, p, admin, 2025)
        assert "reports.task_decomposition" not in [r["rule_id"] for r in later["rules"]]

    async def test_hearings_are_recorded_every_half_year_at_province_and_city_county_level(self, client, database):
        # 000 §(二): 省委常委会会议、省政府常务会议每半年听取一次; §(三) 市县 likewise.
        p, admin = await setup(database, "hainan")
        await generate(client, p, admin, 2024)
        provincial = await obligations(database, "hearings.provincial_semiannual")
        assert sorted(provincial) == ["海南省人民政府/2024-H1", "海南省人民政府/2024-H2"]
        entry = provincial["海南省人民政府/2024-H1"]
        assert entry["report"].kind.value == "hearing_record"
        assert (entry["report"].recipient_kind.value, names(entry, "recipient")) == ("none", [])
        assert entry["report"].title == "海南省人民政府、中共海南省委2024年上半年省委常委会会议、省政府常务会议听取生态环境保护工作汇报记录"
        local = await obligations(database, "hearings.city_county_semiannual")
        assert sorted(local) == sorted(f"{c}/2024-{h}" for c in ("海口市人民政府", "琼海市人民政府") for h in ("H1", "H2"))


class TestHenan:
    """002, issued 2023-06-14."""

    async def test_annual_reports_are_due_at_the_end_of_february_a_leap_year_included(self, client, database):
        # 002 §(十二): 要于每年2月底前向省委和省政府报告上年度生态环境保护职责履行情况及牵头负责的…落实情况
        p, admin = await setup(database, "henan")
        due = rule(await generate(client, p, admin, 2024), "reports.annual_duty_report")["due"]
        assert (due["due_date"], due["falls_on_rest_day"]) == ("2025-02-28", False)
        leap = rule(await generate(client, p, admin, 2027), "reports.annual_duty_report")["due"]
        # 2028 is a leap year: February ends on the 29th; the holiday library does not cover 2028 yet.
        assert (leap["due_date"], leap["calendar_estimated"]) == ("2028-02-29", True)
        rows = await obligations(database, "reports.annual_duty_report", "2027")
        assert {e["report"].due_date for e in rows.values()} == {date(2028, 2, 29)}
        assert rows["河南省生态环境厅"]["report"].content_required == ["duty_performance", "lead_item_implementation"]

    async def test_the_energy_duties_fall_to_the_development_and_reform_commission(self, client, database):
        # 002 closing line: 省能源局有关职责由省发展改革委负责落实 — 13 names, 12 filing departments.
        p, admin = await setup(database, "henan")
        async with database.transaction() as s:
            await make_organisation(s, "河南省能源局", parent=p.org("gov"), major_duty=True)  # flagged by mistake
        await generate(client, p, admin, 2024)
        rows = await obligations(database, "reports.annual_duty_report", "2024")
        # 省辖市党委和政府 (郑州; 济源示范区's 党工委 and 管委会) and the 12.
        assert sorted(rows) == sorted([*HENAN_12, "郑州市人民政府", "济源示范区管委会"])
        assert "河南省能源局" not in rows
        assert rows["河南省发展和改革委员会"]["report"].covers == [
            {"name": "能源", "clause": "002 closing line", "quote": "省能源局有关职责由省发展改革委负责落实"}]
        assert names(rows["济源示范区管委会"], "filer") == ["济源示范区管委会", "中共济源示范区党工委"]
        assert [n for r, n, _ in rows["河南省水利厅"]["parties"] if r == "copy_across"] == ["水利部", "河南省生态环境厅"]

    async def test_work_plans_are_filed_with_the_same_level_committee_office_undated(self, client, database):
        # 002 §(十): 年度工作方案或计划应报送同级生态环境保护委员会办公室备案 — no date.
        p, admin = await setup(database, "henan")
        body = await generate(client, p, admin, 2024)
        assert rule(body, "reports.annual_work_plan")["due"]["undated"] is True
        rows = await obligations(database, "reports.annual_work_plan", "2024")
        assert sorted(rows) == sorted([*HENAN_12, "河南省教育厅", "郑州市生态环境局"])  # 各级有关职能部门
        provincial = rows["河南省财政厅"]
        assert names(provincial, "recipient") == ["河南省生态环境保护委员会办公室"]
        assert (provincial["report"].filing_only, provincial["report"].due_date) == (True, None)
        assert rows["郑州市生态环境局"]["report"].unresolved == [{
            "role": "recipient", "organisation_role": "same_level_environment_committee_office",
            "reason": "no organisation is designated for same_level_environment_committee_office in 郑州市"}]
        assert {s["rule_id"] for s in body["skipped"]} == {"hearings.provincial_periodic",
                                                           "hearings.city_county_periodic"}  # 定期: no count


class TestHubei:
    """003, issued 2023-01-28."""

    async def test_cities_and_the_13_report_by_jan_31_and_local_departments_yearly_undated(self, client, database):
        # 003 §(十一) 各市州党委、政府 and the 13 by 1月底; §(十二) 地方有关职能部门每年…(no day)
        p, admin = await setup(database, "hubei")
        body = await generate(client, p, admin, 2024)
        cities = await obligations(database, "reports.annual_duty_report.cities", "2024")
        assert list(cities) == ["武汉市人民政府"]
        assert cities["武汉市人民政府"]["report"].title == "武汉市人民政府、中共武汉市委2024年度生态环境保护工作情况报告"
        assert [r for r, _, _ in cities["武汉市人民政府"]["parties"] if r.startswith("copy")] == []
        depts = await obligations(database, "reports.annual_duty_report.provincial_departments", "2024")
        assert sorted(depts) == sorted(HUBEI_13)
        assert {e["report"].due_date for e in {**cities, **depts}.values()} == {date(2025, 1, 31)}
        # provincial departments: 抄报 the superior department, 抄送 省环委办
        assert [(r, n) for r, n, _ in depts["湖北省生态环境厅"]["parties"] if r.startswith("copy")] == [
            ("copy_up", "生态环境部"), ("copy_across", "湖北省生态环境保护委员会办公室")]
        local = await obligations(database, "reports.annual_duty_report.local_departments", "2024")
        bureau = local["武汉市生态环境局"]
        assert (bureau["report"].due_date, bureau["report"].undated) == (None, True)
        assert rule(body, "reports.annual_duty_report.local_departments")["due"]["rule_text_zh"] == "每年（未定日期）"
        assert names(bureau, "recipient") == ["武汉市人民政府", "中共武汉市委"]  # 同级党委和政府
        assert [(r, n) for r, n, _ in bureau["parties"] if r.startswith("copy")] == [
            ("copy_up", "湖北省生态环境厅"), ("copy_across", "武汉市生态环境保护委员会办公室")]


class TestShandong:
    """004, which bears no date."""

    async def test_only_the_15_report_by_april_30_with_copies_to_the_ministry_and_the_environment_department(
            self, client, database):
        # 004 §七: (the 15) 应于每年4月底前向省委和省政府报告…抄送国务院主管部门、省级生态环境部门
        p, admin = await setup(database, "shandong")
        body = await generate(client, p, admin, 2024)
        assert rule(body, "reports.annual_duty_report")["due"]["due_date"] == "2025-04-30"
        rows = await obligations(database, "reports.annual_duty_report", "2024")
        assert sorted(rows) == sorted(SHANDONG_15)  # not 教育厅, not 济南
        assert names(rows["山东省水利厅"], "copy_across") == ["水利部", "山东省生态环境厅"]
        assert rows["山东省商务厅"]["report"].unresolved[0]["organisation_role"] == "national_competent_department"
        assert rows["山东省水利厅"]["report"].content_required == [
            "duty_performance", "lead_item_implementation", "inspection_rectification", "pollution_battle",
            "four_reductions_four_increases"]
        # 004 §八 及时 reports are filed as they happen; §九 quarterly study sessions are scheduled.
        assert {"rule_id": "reports.ad_hoc_to_vice_governor",
                "reason": "ad hoc (及时): filed as it happens, not scheduled"} in body["skipped"]
        study = await obligations(database, "hearings.city_county_dedicated_study")
        assert sorted(study) == [f"济南市人民政府/2024-Q{q}" for q in range(1, 5)]


class TestGenerationIsIdempotentAndGuarded:
    async def test_a_second_run_creates_nothing_and_audits_nothing(self, client, database):
        p, admin = await setup(database, "hainan")
        first = await generate(client, p, admin, 2024)
        second = await generate(client, p, admin, 2024)
        assert (first["created"], first["existing"]) == (92, 0)
        assert (second["created"], second["existing"]) == (0, 92)
        async with database.transaction(write=False) as s:
            assert await s.scalar(select(func.count()).select_from(Report)) == 92
            events = await s.scalar(select(func.count()).where(AuditEvent.action == "report.generate",
                                                               AuditEvent.organisation_id == p.root.id))
        assert events == 1

    async def test_the_designated_inspection_office_may_generate(self, client, database):
        p, _ = await setup(database, "hainan")
        async with database.transaction() as s:
            office = await make_user(s, "t.hn.inspection.office", (p.org("inspection_office"), Role.office))
        assert (await generate(client, p, office, 2025))["created"] > 0

    @pytest.mark.parametrize("who", ["staff", "office_elsewhere"])
    async def test_others_in_the_province_are_refused(self, client, database, who):
        p, _ = await setup(database, "hainan")
        async with database.transaction() as s:
            org = p.org("env") if who == "staff" else p.org("water_office")
            user = await make_user(s, f"t.hn.{who}", (org, Role.staff if who == "staff" else Role.office))
        r = await client.post(URL, headers=auth(user), json={"jurisdiction_id": str(p.root.id), "year": 2024})
        assert (r.status_code, problem(r)) == (403, {
            "type": "https://envduty.example/problems/forbidden", "title": "Not allowed", "status": 403,
            "code": "forbidden", "detail": "Only the province's administrators or its coordinating office "
                                           "(督察领导小组办公室, 环委办) generate report obligations."})

    async def test_another_province_or_a_non_root_is_an_unknown_jurisdiction(self, client, database):
        p, admin = await setup(database, "hainan")
        async with database.transaction() as s:
            henan = await BUILDERS["henan"](s)
        for target in (henan.root.id, p.org("gov").id):
            r = await client.post(URL, headers=auth(admin), json={"jurisdiction_id": str(target), "year": 2024})
            assert (r.status_code, problem(r)["errors"]) == (422, [{
                "pointer": "/jurisdiction_id", "source": "body", "type": "unknown_jurisdiction",
                "message": "not a province you belong to, or it has no jurisdiction profile"}])


class TestRulesThatCountFromAnEvent:
    async def test_a_working_day_rule_is_skipped_not_a_500(self, client, database, monkeypatch):
        # A profile an admin extends with "within 10 working days of the letter" has no calendar date.
        from app.core.calendar import WorkingDaysAfter
        from app.services.reports import commands

        p, admin = await setup(database, "shandong")
        profile = commands.get_profile("shandong")
        rule = profile.reports[0].model_copy(update={"id": "letter_reply", "due": WorkingDaysAfter(10)})
        extended = profile.model_copy(update={"reports": [*profile.reports, rule]})
        monkeypatch.setattr(commands, "get_profile", lambda code: extended)
        body = await generate(client, p, admin, 2024)
        assert {"rule_id": "reports.letter_reply", "reason": "working_days_after: counts from an event"} \
            in body["skipped"]

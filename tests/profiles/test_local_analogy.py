"""参照落实 in the report rules: where the texts tell cities and counties to follow by analogy."""

import pytest
from pydantic import ValidationError

from app.profiles import get_profile
from app.profiles.schema import ReportRule, SubProvincial

BASE = {"clause": "002 §(十二)", "quote": "各省辖市、县(市、区)参照落实", "applies_to": "省辖市、县(市、区)"}


class TestShippedAnalogies:
    def test_henan_annual_report_follows_by_analogy_in_cities_and_counties(self):
        # 002 §(十二): …专题报告应同时抄送上级主管部门、省生态环境厅。各省辖市、县(市、区)参照落实。
        local = get_profile("henan").report("annual_duty_report").sub_provincial
        assert (local.clause, [lv.value for lv in local.applies_to_levels], [f.value for f in local.filers],
                local.due) == ("002 §(十二)", ["city", "county"], ["major_duty_departments"], None)

    @pytest.mark.parametrize("code", ["hainan", "hubei", "shandong"])
    def test_no_other_report_rule_schedules_an_analogy(self, code):
        # 000 §(十二), 003 §(十一)(十二) and 004 §七 say nothing of 参照落实 for reports.
        rules = get_profile(code).reports
        assert [r.id for r in rules if r.sub_provincial and r.sub_provincial.applies_to_levels] == []

    def test_a_duty_list_analogy_stays_recorded_only(self):
        # 000 §(七) 市县参照落实: duty lists resolve in the owner's region already; nothing is scheduled.
        assert get_profile("hainan").duty_list.publishers.sub_provincial.applies_to_levels == []


class TestAnalogyShape:
    def test_levels_without_filers_are_refused(self):
        with pytest.raises(ValidationError, match="names its filers"):
            SubProvincial(**BASE, applies_to_levels=["city"])

    def test_filers_must_be_the_regions_own_departments(self):
        with pytest.raises(ValidationError, match="region's own departments"):
            SubProvincial(**BASE, applies_to_levels=["city"], filers=["city_party_committees_and_governments"])

    def test_a_rule_id_may_not_take_the_local_suffix(self):
        rule = get_profile("henan").report("annual_duty_report").model_dump(mode="json")
        with pytest.raises(ValidationError, match="may not end in"):
            ReportRule.model_validate({**rule, "id": "annual_duty_report.local"})

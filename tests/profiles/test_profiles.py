"""The four shipped jurisdiction profiles, checked against DOMAIN.md and the seeds."""

import json
import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.calendar import Undated
from app.profiles import PROFILE_DIR, get_profile, load_profiles
from app.profiles.schema import AccountabilityPath, OrgRole, Profile

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
CODES = {"hainan", "henan", "hubei", "shandong"}


def _raw(code: str) -> dict:
    return json.loads((PROFILE_DIR / f"{code}.json").read_text(encoding="utf-8"))


class TestLoading:
    def test_all_four_load(self):
        profiles = load_profiles()
        assert set(profiles) == CODES
        for code, profile in profiles.items():
            assert profile.code == code
            assert profile.version == 1
            assert profile.timezone == "Asia/Shanghai"

    def test_get_profile(self):
        assert get_profile("hubei").name == "湖北省"
        assert get_profile("atlantis") is None

    def test_callers_get_their_own_dict(self):
        load_profiles().pop("hainan")
        assert "hainan" in load_profiles()

    def test_unknown_field_is_refused(self):
        data = _raw("hainan")
        data["deadline_hint"] = "soon"
        with pytest.raises(ValidationError):
            Profile.model_validate(data)

    @pytest.mark.parametrize("code", sorted(CODES))
    def test_json_round_trip(self, code):
        profile = get_profile(code)
        assert Profile.model_validate(profile.model_dump(mode="json")) == profile

    def test_undated_document_cannot_count_from_issuance(self):
        data = _raw("shandong")
        data["duty_list"]["first_publication"]["due"] = {"kind": "months_after_issuance", "months": 2}
        with pytest.raises(ValidationError, match="no date"):
            Profile.model_validate(data)


class TestDocuments:
    @pytest.mark.parametrize(
        ("code", "seed", "issued_on"),
        [
            ("hainan", "000", date(2024, 3, 12)),
            ("henan", "002", date(2023, 6, 14)),
            ("hubei", "003", date(2023, 1, 28)),
            ("shandong", "004", None),
        ],
    )
    def test_issuance(self, code, seed, issued_on):
        document = get_profile(code).document
        assert document.seed_file == seed
        assert document.issued_on == issued_on

    def test_only_hainan_bears_a_number(self):
        assert get_profile("hainan").document.number == "琼环督字〔2024〕2号"
        assert all(get_profile(c).document.number is None for c in ("henan", "hubei", "shandong"))


class TestMajorDutyDepartments:
    @pytest.mark.parametrize(
        ("code", "count"), [("hainan", 16), ("henan", 13), ("hubei", 13), ("shandong", 15)]
    )
    def test_counts(self, code, count):
        departments = get_profile(code).major_duty_departments.departments
        assert len(departments) == count
        assert len({d.name for d in departments}) == count

    def test_henan_energy_duties_fall_to_development_and_reform(self):
        energy = next(d for d in get_profile("henan").major_duty_departments.departments if d.name == "能源")
        assert energy.duties_assigned_to == "发展改革"

    def test_shandong_names_are_full(self):
        names = [d.name for d in get_profile("shandong").major_duty_departments.departments]
        assert names[0] == "省发展改革委" and "省畜牧局" in names


class TestDueRules:
    @pytest.mark.parametrize(
        ("code", "report_id", "period_year", "expected"),
        [
            ("hainan", "annual_duty_report", 2024, date(2025, 1, 31)),
            ("hubei", "annual_duty_report.cities", 2024, date(2025, 1, 31)),
            ("hubei", "annual_duty_report.provincial_departments", 2025, date(2026, 1, 31)),
            ("henan", "annual_duty_report", 2023, date(2024, 2, 29)),
            ("henan", "annual_duty_report", 2024, date(2025, 2, 28)),
            ("shandong", "annual_duty_report", 2024, date(2025, 4, 30)),
        ],
    )
    def test_annual_duty_report(self, code, report_id, period_year, expected):
        profile = get_profile(code)
        report = profile.report(report_id)
        assert report.kind == "annual_duty_report"
        assert profile.due(report.due, period_year=period_year).due_date == expected

    def test_hainan_list_and_decomposition_count_from_issuance(self):
        hainan = get_profile("hainan")
        listed = hainan.due(hainan.duty_list.first_publication.due)
        assert listed.due_date == date(2024, 5, 12) and listed.falls_on_rest_day
        decomposition = hainan.due(hainan.report("task_decomposition").due)
        assert decomposition.due_date == date(2024, 6, 12)

    def test_hainan_work_plan_end_of_february_same_year(self):
        hainan = get_profile("hainan")
        assert hainan.due(hainan.report("annual_work_plan").due, period_year=2024).due_date == date(
            2024, 2, 29
        )

    @pytest.mark.parametrize("code", ["henan", "hubei", "shandong"])
    def test_other_lists_have_no_first_publication_date(self, code):
        profile = get_profile(code)
        due = profile.due(profile.duty_list.first_publication.due)
        assert due.undated and due.due_date is None

    def test_undated_obligations(self):
        assert isinstance(get_profile("henan").report("annual_work_plan").due, Undated)
        assert isinstance(get_profile("hubei").report("annual_duty_report.local_departments").due, Undated)
        assert isinstance(get_profile("shandong").report("ad_hoc_to_vice_governor").due, Undated)


class TestWhoDoesWhat:
    def test_list_review_and_approval(self):
        henan, hubei = get_profile("henan").duty_list, get_profile("hubei").duty_list
        assert henan.review.organisation is OrgRole.environment_department
        assert henan.approval.organisation is OrgRole.provincial_party_committee_and_government
        assert hubei.review is None and hubei.approval.verb == "批准"
        for code in ("hainan", "shandong"):
            assert get_profile(code).duty_list.review is None
            assert get_profile(code).duty_list.approval is None

    def test_lead_decision(self):
        assert get_profile("hainan").lead_decision.convenor.organisation is OrgRole.inspection_office
        hubei = get_profile("hubei").lead_decision
        assert hubei.convenor_decides and hubei.decider.organisation == hubei.convenor.organisation
        shandong = get_profile("shandong").lead_decision
        assert shandong.decider.organisation is OrgRole.provincial_party_committee_and_government
        assert shandong.decider.inferred and shandong.decider.note

    def test_hubei_copies_go_up_and_across(self):
        copies = get_profile("hubei").report("annual_duty_report.provincial_departments").copies
        assert [(c.organisation, c.mode) for c in copies] == [
            (OrgRole.superior_department, "copy_up"),
            (OrgRole.environment_committee_office, "copy_across"),
        ]

    def test_henan_work_plan_is_a_filing(self):
        plan = get_profile("henan").report("annual_work_plan")
        assert plan.filing_only
        assert plan.recipient is OrgRole.same_level_environment_committee_office

    def test_hainan_semiannual_report_goes_to_a_person(self):
        report = get_profile("hainan").report("semiannual_duty_report")
        assert report.recipient is OrgRole.vice_governor_in_charge

    def test_escalation_and_accountability(self):
        hainan = get_profile("hainan")
        assert hainan.escalation.proposer is OrgRole.environment_department
        assert hainan.escalation.decider is OrgRole.provincial_party_committee_and_government
        assert get_profile("henan").escalation.decider is None
        paths = {c: get_profile(c).accountability.path for c in CODES}
        assert paths == {
            "hainan": AccountabilityPath.two_stage,
            "henan": AccountabilityPath.direct,
            "hubei": AccountabilityPath.not_stated,
            "shandong": AccountabilityPath.direct,
        }

    def test_shandong_dedicated_study_at_least_quarterly(self):
        study = next(h for h in get_profile("shandong").hearings if h.kind == "dedicated_study")
        assert study.at_least and study.due.cadence == "quarterly"


class TestCitations:
    @pytest.mark.parametrize("code", sorted(CODES))
    def test_every_rule_cites_its_own_seed(self, code):
        profile = get_profile(code)
        rules = list(profile.iter_rules())
        assert len(rules) > 15
        for path, rule in rules:
            assert rule.clause.startswith(profile.document.seed_file + " "), path
            assert rule.quote or rule.inferred, f"{path}: a stated rule quotes its clause"
        for department in profile.major_duty_departments.departments:
            if department.duties_assigned_to:
                assert department.clause.startswith(profile.document.seed_file + " ")

    @pytest.mark.skipif(not SEEDS.is_dir(), reason="seed texts not available")
    @pytest.mark.parametrize("code", sorted(CODES))
    def test_quotes_appear_in_the_cited_clause(self, code):
        profile = get_profile(code)
        seed = profile.document.seed_file
        text = _squash(next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8"))
        clauses = _clauses(text, chapter_style=(seed == "004"))
        for path, rule in profile.iter_rules():
            if not rule.quote:
                continue
            number = re.search(r"§[(（]?([一二三四五六七八九十]+)", rule.clause)
            haystack = clauses[number.group(1)] if number else text
            assert _squash(rule.quote) in haystack, f"{path}: {rule.quote!r} not in {rule.clause}"


def _squash(s: str) -> str:
    # The PDF-extracted seeds break words with stray spaces and newlines.
    return re.sub(r"\s+", "", s)


def _clauses(text: str, *, chapter_style: bool) -> dict[str, str]:
    # 000/002/003 number clauses (七); 004 numbers them 七、
    marker = (
        r"(?:^|[。）])([一二三四五六七八九十]{1,3})、"
        if chapter_style
        else r"[(（]([一二三四五六七八九十]{1,3})[)）]"
    )
    marks = [(m.group(1), m.start()) for m in re.finditer(marker, text)]
    out: dict[str, str] = {}
    for i, (number, start) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else len(text)
        out.setdefault(number, text[start:end])
    return out

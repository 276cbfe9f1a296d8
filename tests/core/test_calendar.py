"""Working days and due-date rules.

Expected dates are worked out by hand from the State Council's holiday notices
(国务院办公厅关于2024/2025/2026年部分节假日安排的通知), not by calling the code
under test.
"""

from datetime import UTC, date, datetime

import pytest

from app.core.calendar import (
    Cadence,
    EndOfMonth,
    FixedDateOfPeriodYear,
    MonthsAfterIssuance,
    Undated,
    WorkingDaysAfter,
    add_months,
    add_working_days,
    calendar_covers,
    evaluate,
    is_rest_day,
    is_workday,
    parse_rule,
    rule_to_dict,
    today_in_zone,
)


class TestNationalDay2024:
    # Oct 1-7 off; Sun Sep 29 and Sat Oct 12 are make-up working days.
    @pytest.mark.parametrize("day", range(1, 8))
    def test_golden_week_is_rest(self, day):
        assert is_rest_day(date(2024, 10, day))
        assert not is_workday(date(2024, 10, day))

    def test_make_up_days_are_working(self):
        assert date(2024, 9, 29).weekday() == 6 and is_workday(date(2024, 9, 29))
        assert date(2024, 10, 12).weekday() == 5 and is_workday(date(2024, 10, 12))

    def test_ordinary_weekend_around_it_is_rest(self):
        assert is_rest_day(date(2024, 9, 28))  # Saturday, not a make-up day
        assert is_rest_day(date(2024, 10, 13))  # Sunday

    def test_five_working_days_after_sep_27(self):
        # Start day not counted: Sep 29 (make-up), Sep 30, then Oct 8, 9, 10.
        assert add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 10)

    def test_one_working_day_after_friday_is_the_make_up_sunday(self):
        assert add_working_days(date(2024, 9, 27), 1) == date(2024, 9, 29)

    def test_working_day_after_sep_30_skips_the_holiday(self):
        assert add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)


class TestSpringFestival:
    def test_2025(self):
        # Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 worked.
        for day in (date(2025, 1, 28), date(2025, 1, 31), date(2025, 2, 4)):
            assert is_rest_day(day)
        assert is_workday(date(2025, 1, 26)) and is_workday(date(2025, 2, 8))
        assert is_workday(date(2025, 2, 5))
        assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)

    def test_2026(self):
        # Feb 15 - 23 off (Feb 23 is a Monday); Sat Feb 14 and Sat Feb 28 worked.
        for day in (date(2026, 2, 15), date(2026, 2, 17), date(2026, 2, 23)):
            assert is_rest_day(day)
        assert date(2026, 2, 23).weekday() == 0
        assert is_workday(date(2026, 2, 14)) and is_workday(date(2026, 2, 28))
        assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


class TestAddWorkingDays:
    def test_zero_returns_start_even_on_a_holiday(self):
        assert add_working_days(date(2024, 10, 3), 0) == date(2024, 10, 3)

    def test_negative_is_refused(self):
        with pytest.raises(ValueError):
            add_working_days(date(2024, 10, 3), -1)


class TestAddMonths:
    @pytest.mark.parametrize(
        ("start", "n", "expected"),
        [
            (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
            (date(2023, 1, 31), 1, date(2023, 2, 28)),
            (date(2024, 3, 31), -1, date(2024, 2, 29)),
            (date(2024, 11, 15), 3, date(2025, 2, 15)),  # across a year
            (date(2024, 3, 12), 2, date(2024, 5, 12)),
            (date(2024, 8, 31), 0, date(2024, 8, 31)),
        ],
    )
    def test_clamps_to_month_end(self, start, n, expected):
        assert add_months(start, n) == expected


class TestEvaluate:
    def test_end_of_february_in_a_leap_year(self):
        assert evaluate(EndOfMonth(2), period_year=2023).due_date == date(2024, 2, 29)
        assert evaluate(EndOfMonth(2), period_year=2024).due_date == date(2025, 2, 28)

    def test_same_year_offset(self):
        assert evaluate(EndOfMonth(2, year_offset=0), period_year=2024).due_date == date(2024, 2, 29)

    def test_fixed_date_of_following_year(self):
        due = evaluate(FixedDateOfPeriodYear(4, 30), period_year=2024)
        assert due.due_date == date(2025, 4, 30)
        assert not due.falls_on_rest_day  # a Wednesday

    def test_hainan_list_deadline_is_a_sunday_and_stays(self):
        # 000 §(七): two months after 2024-03-12.
        due = evaluate(MonthsAfterIssuance(2), issued_on=date(2024, 3, 12))
        assert due.due_date == date(2024, 5, 12)
        assert date(2024, 5, 12).weekday() == 6
        assert due.falls_on_rest_day
        assert not due.undated and not due.calendar_estimated

    def test_weekday_holiday_is_flagged(self):
        # Jan 31 2025 is a Friday inside the Spring Festival break.
        due = evaluate(EndOfMonth(1), period_year=2024)
        assert due.due_date == date(2025, 1, 31)
        assert due.falls_on_rest_day

    def test_working_days_rule_lands_on_a_working_day(self):
        due = evaluate(WorkingDaysAfter(5), event_date=date(2024, 9, 27))
        assert due.due_date == date(2024, 10, 10)
        assert not due.falls_on_rest_day

    @pytest.mark.parametrize("cadence", list(Cadence))
    def test_undated_has_no_date(self, cadence):
        due = evaluate(Undated(cadence))
        assert due.due_date is None and due.undated
        assert due.cadence is cadence
        assert not due.falls_on_rest_day and not due.calendar_estimated

    def test_missing_input_is_an_error(self):
        with pytest.raises(ValueError, match="period_year"):
            evaluate(EndOfMonth(1))
        with pytest.raises(ValueError, match="issued_on"):
            evaluate(MonthsAfterIssuance(2))
        with pytest.raises(ValueError, match="event_date"):
            evaluate(WorkingDaysAfter(3))

    def test_rule_text_in_both_languages(self):
        due = evaluate(EndOfMonth(1), period_year=2024)
        assert due.rule_text_zh == "次年1月底前"
        assert "end of Jan" in due.rule_text


class TestOutsideTheLibrary:
    def test_coverage(self):
        assert calendar_covers(2024) and calendar_covers(2026)
        assert not calendar_covers(2027)

    def test_falls_back_to_monday_to_friday(self):
        # Jan 1 2027 is a Friday: a holiday in fact, a working day by the fallback.
        assert date(2027, 1, 1).weekday() == 4
        assert is_workday(date(2027, 1, 1))
        assert is_rest_day(date(2027, 1, 2))

    def test_due_date_is_marked_estimated(self):
        due = evaluate(EndOfMonth(1), period_year=2026)
        assert due.due_date == date(2027, 1, 31)
        assert due.calendar_estimated
        assert due.falls_on_rest_day  # a Sunday

    def test_working_day_window_into_2027_is_estimated(self):
        due = evaluate(WorkingDaysAfter(10), event_date=date(2026, 12, 25))
        assert due.calendar_estimated

    def test_covered_date_is_not_estimated(self):
        assert not evaluate(EndOfMonth(1), period_year=2025).calendar_estimated


class TestParseRule:
    @pytest.mark.parametrize(
        "data",
        [
            {"kind": "fixed_date_of_period_year", "month": 1, "day": 31, "year_offset": 1},
            {"kind": "end_of_month", "month": 2, "year_offset": 0},
            {"kind": "months_after_issuance", "months": 2},
            {"kind": "working_days_after", "n": 10},
            {"kind": "undated", "cadence": "promptly"},
        ],
    )
    def test_round_trip(self, data):
        assert rule_to_dict(parse_rule(data)) == data

    def test_defaults(self):
        assert parse_rule({"kind": "end_of_month", "month": 2}) == EndOfMonth(2, year_offset=1)

    @pytest.mark.parametrize(
        "data",
        [
            {"kind": "nope"},
            {"kind": "end_of_month"},
            {"kind": "end_of_month", "month": 13},
            {"kind": "end_of_month", "month": 2, "day": 28},
            {"kind": "end_of_month", "month": "2"},
            {"kind": "fixed_date_of_period_year", "month": 2, "day": 29},
            {"kind": "months_after_issuance", "months": -1},
            {"kind": "undated", "cadence": "weekly"},
            "end_of_month",
        ],
    )
    def test_bad_rules_are_refused(self, data):
        with pytest.raises(ValueError):
            parse_rule(data)


class TestTodayInZone:
    def test_shanghai_is_ahead_of_utc(self):
        now = datetime(2024, 12, 31, 16, 30, tzinfo=UTC)
        assert today_in_zone(now=now) == date(2025, 1, 1)
        assert today_in_zone("UTC", now=now) == date(2024, 12, 31)

    def test_naive_instant_is_refused(self):
        with pytest.raises(ValueError):
            today_in_zone(now=datetime(2024, 12, 31, 16, 30))

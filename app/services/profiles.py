"""Reading jurisdiction profiles and evaluating their deadlines."""

from __future__ import annotations

from app.core.calendar import DueDate
from app.core.errors import NotFound
from app.profiles import Profile, get_profile, load_profiles
from app.schemas.profiles import DeadlineList, DeadlineRead, ProfileList, ProfileSummary


def _summary(profile: Profile) -> ProfileSummary:
    return ProfileSummary(code=profile.code, version=profile.version, name=profile.name, name_en=profile.name_en,
                          document_number=profile.document.number, issued_on=profile.document.issued_on)


def list_summaries() -> ProfileList:
    return ProfileList(items=[_summary(p) for p in sorted(load_profiles().values(), key=lambda p: p.code)])


def get(code: str) -> Profile:
    profile = get_profile(code)
    if profile is None:
        raise NotFound(f"No profile with code {code!r}.")
    return profile


def deadlines(code: str, year: int) -> DeadlineList:
    profile = get(code)
    items = []
    for path, rule in profile.iter_rules():
        due_rule = getattr(rule, "due", None)
        if due_rule is None:
            continue
        try:
            due: DueDate = profile.due(due_rule, period_year=year)
        except ValueError:
            continue  # counts from an event (e.g. a letter's date), not from the calendar year
        items.append(DeadlineRead(rule=path, clause=rule.clause, due_date=due.due_date, undated=due.undated,
                                  falls_on_rest_day=due.falls_on_rest_day,
                                  calendar_estimated=due.calendar_estimated, rule_text=due.rule_text,
                                  rule_text_zh=due.rule_text_zh))
    return DeadlineList(profile=code, period_year=year, items=items)

"""The refusals particular to lead decisions, each with a stable `code` clients branch on."""

from __future__ import annotations

from app.core.errors import BusinessRuleViolation, Conflict


class NoBodyDesignated(BusinessRuleViolation):
    """The profile names a convenor or decider that no organisation fills in the region."""

    code, title = "no_body_designated", "No organisation fills a role the profile names"


class NoProfile(BusinessRuleViolation):
    code, title = "no_jurisdiction_profile", "The jurisdiction has no profile"


class NoRegion(BusinessRuleViolation):
    code, title = "no_region", "The organisation lies in no administrative region"


class NotEditable(Conflict):
    code, title = "lead_decision_not_editable", "The decision can no longer be edited"


class NotConsulting(Conflict):
    code, title = "lead_decision_not_consulting", "Opinions are recorded only during consultation"


class OpinionAlreadyRecorded(Conflict):
    code, title = "opinion_already_recorded", "This organisation has already given its opinion"



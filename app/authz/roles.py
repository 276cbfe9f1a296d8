"""What each role may do: the permission table (CONVENTIONS.md, authorization layer 1).

A route requires one permission; a caller has it if any of its memberships'
roles grants it. Where the caller may use it is scoping's business
(`app.authz.scoping`), and which workflow step it may take is the transition
table's. Integration clients get permissions from their scopes instead.
"""

from __future__ import annotations

import enum

from app.models.identity import Role


class Permission(str, enum.Enum):
    organisations_read = "organisations:read"
    organisations_write = "organisations:write"
    users_read = "users:read"
    users_write = "users:write"
    clients_manage = "clients:manage"
    audit_read = "audit:read"
    audit_verify = "audit:verify"
    duty_lists_read = "duty_lists:read"
    # Drafting, editing and taking workflow steps on duty lists; the transition table then
    # says which role, at which organisation, may take each step.
    duty_lists_write = "duty_lists:write"
    lead_decisions_read = "lead_decisions:read"
    lead_decisions_write = "lead_decisions:write"
    reports_read = "reports:read"
    # Working on reports (drafting, submitting, receiving, accepting, publishing, generating the
    # obligations); the report workflow then says which role, at which organisation, takes each step.
    reports_write = "reports:write"
    # Inspections and findings: reading for every role (in scope); registering, planning, reporting,
    # verifying and closing for the working roles; the finding workflow table then says which role,
    # at which of the finding's organisations, takes each step.
    findings_read = "findings:read"
    findings_write = "findings:write"
    # Escalations (督办、预警、约谈、通报、移交): read by every role in scope of a party; issued, decided
    # and replied to by the office, leaders and leadership (the workflow table says at which organisation).
    escalations_read = "escalations:read"
    escalations_write = "escalations:write"
    # Accountability cases (问责): read by their parties only (a receiving body sees its cases); the
    # responsible body's leader transfers, the receiving body's discipline members or office conclude.
    cases_read = "cases:read"
    cases_write = "cases:write"
    # Bringing in a ledger already worked, with its recorded states and dates (admins only).
    findings_import = "findings:import"


_READ_BASICS = {Permission.organisations_read, Permission.duty_lists_read, Permission.lead_decisions_read,
                Permission.reports_read, Permission.findings_read, Permission.escalations_read,
                Permission.cases_read}
_DUTY_WORK = {Permission.duty_lists_write, Permission.reports_write, Permission.findings_write}
_ESCALATING = {Permission.escalations_write, Permission.cases_write}  # office, leader, leadership

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    # The office is the secretariat: it reads who works where and what was done (audit) in its scope.
    Role.office: frozenset(_READ_BASICS | _DUTY_WORK | _ESCALATING | {Permission.users_read, Permission.audit_read,
                                                                       Permission.lead_decisions_write}),
    # Leaders raise lead matters and record their organisation's opinion (000 §(八) 研究会商).
    Role.leader: frozenset(_READ_BASICS | _DUTY_WORK | _ESCALATING | {Permission.users_read,
                                                                       Permission.lead_decisions_write}),
    Role.leadership: frozenset(_READ_BASICS | _DUTY_WORK | _ESCALATING | {Permission.users_read,
                                                                           Permission.lead_decisions_write}),
    Role.staff: frozenset(_READ_BASICS | _DUTY_WORK),
    # Inspectors register findings during a campaign and look back on them (DOMAIN.md roles).
    Role.inspector: frozenset(_READ_BASICS | {Permission.findings_write}),
    # Discipline bodies receive transferred cases and record outcomes (DOMAIN.md roles).
    Role.discipline: frozenset(_READ_BASICS | {Permission.cases_write}),
    Role.viewer: frozenset(_READ_BASICS),
}

# Scopes an admin may grant an integration client; each maps to one permission.
CLIENT_SCOPES: dict[str, Permission] = {
    "organisations:read": Permission.organisations_read,
    "users:read": Permission.users_read,
    "audit:read": Permission.audit_read,
    "duty_lists:read": Permission.duty_lists_read,
    "lead_decisions:read": Permission.lead_decisions_read,
    "reports:read": Permission.reports_read,
    "findings:read": Permission.findings_read,
    "escalations:read": Permission.escalations_read,
    "cases:read": Permission.cases_read,
}


def permissions_for_roles(roles: set[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)

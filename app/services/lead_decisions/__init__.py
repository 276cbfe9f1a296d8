"""Lead-department decisions (牵头部门认定; DOMAIN.md "Lead-department decisions", 000 §(八),
002 §(六), 003 §(七), 004 §五).

Modules: `resolution` (level, region, convenor and decider from the profile), `access` (who sees
a decision, whose roles count for a step), `validation` (references in bodies), `commands`
(open, edit), `actions` (the workflow steps), `opinions` (会商意见), `queries` (reads),
`public` (what anonymous readers see of published decisions).
"""

from app.services.lead_decisions.actions import take_action
from app.services.lead_decisions.commands import create_decision, update_decision
from app.services.lead_decisions.opinions import list_opinions, record_opinion
from app.services.lead_decisions.public import get_public, list_public
from app.services.lead_decisions.queries import decision_history, get_decision, list_decisions

__all__ = ["create_decision", "decision_history", "get_decision", "get_public", "list_decisions",
           "list_opinions", "list_public", "record_opinion", "take_action", "update_decision"]

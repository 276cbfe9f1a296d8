"""Escalations (督办、预警、约谈、通报、移交): DOMAIN.md "Escalations".

Modules: `access` (who reads an escalation; the guards' context), `commands` (issue or propose,
decide, reject, reply; a handover issued opens its accountability case), `queries` (reads, pages,
history, `/findings/{id}/escalations`), `links` (the findings, reports and duty lists an escalation
is about: checked on create, loaded per page, filtered on), `public` (what anyone sees), `demo`.
"""

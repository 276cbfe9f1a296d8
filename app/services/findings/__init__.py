"""Findings (督察/巡视/审计发现问题) and their whole rectification workflow, through 销号 and 回头看.

Modules: `access` (who sees a finding, the guards' context), `steps` (the generic step and
shared reference checks), `commands` (register, edit, assign, closure, unrectifiable),
`plan` (submit, amend, approve, return plans; measures materialise on approval),
`measures` (measure reads and steps), `progress` (progress updates and missed-update flags),
`lookbacks` (回头看 and rebounds), `extensions` (申请延期), `queries` (reads, pages, history).
"""

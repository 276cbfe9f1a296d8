"""Duty lists (生态环境保护具体事项清单): versions, their items, the workflow, deadlines.

Modules: `access` (who sees and acts on which version), `commands` (create, actions,
revisions), `items` (responsibility items inside an editable version), `queries`
(reads, lists, diffs), `obligations` (who must publish by when), `lead_application`
(applying an approved lead decision to items).
"""

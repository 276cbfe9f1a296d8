"""Accountability cases (问责): DOMAIN.md "Accountability cases".

Modules: `access` (who reads a case: its parties only, so a receiving body sees its cases and
not others; the guards' context), `commands` (opening from a handover, transfer, accept,
conclude, conclude internally), `queries` (reads, pages, history).
"""

"""Inspections (督察/巡视/审计 campaigns): who sees them, creating and changing them, their category trees.

Modules: `access` (visibility, who may register, organisation references), `commands`
(create, update), `categories` (the 方面 → topic tree), `queries` (reads and pages).
"""

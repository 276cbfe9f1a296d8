"""Organisations (DOMAIN.md "Organisations"): the forest of provinces, national bodies and
everything below them. `commands` changes them (its docstring states who may do what),
`queries` reads them; closure maintenance is `app.services.org_tree`."""

from app.services.organisations.commands import (
    create_organisation,
    deactivate_organisation,
    reactivate_organisation,
    update_organisation,
)
from app.services.organisations.queries import (
    get_organisation,
    list_ancestors,
    list_children,
    list_organisations,
    list_subtree,
)

__all__ = [
    "create_organisation", "deactivate_organisation", "get_organisation", "list_ancestors", "list_children",
    "list_organisations", "list_subtree", "reactivate_organisation", "update_organisation",
]

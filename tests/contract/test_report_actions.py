"""Every action of the report workflow has its route, and every action route is in the table
(CONVENTIONS.md "Workflows are data"; DOMAIN.md: the path is the action's name in kebab-case)."""

from __future__ import annotations

from app.main import create_app
from app.workflows.reports import REPORT_WORKFLOW

PREFIX = "/reports/{report_id}/"
NOT_ACTIONS = {"history", "attachments"}  # GET sub-resources; evidence files (a record, no step)


def test_actions_and_routes_match():
    paths = create_app().openapi()["paths"]
    routes = {path.removeprefix(PREFIX) for path, item in paths.items()
              if path.startswith(PREFIX) and "post" in item} - NOT_ACTIONS
    assert routes == {action.replace("_", "-") for action in REPORT_WORKFLOW.actions}
    for action in REPORT_WORKFLOW.actions:
        operation = paths[PREFIX + action.replace("_", "-")]["post"]
        assert operation["operationId"] == f"{action}_report"
        assert {"403", "404", "409", "412", "428"} <= set(operation["responses"])

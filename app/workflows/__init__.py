"""Workflow tables (one module per resource) and the engine that reads them; pure Python."""

from app.workflows.engine import Guard, Transition, WorkflowTable, WrongState, allowed_actions, check

__all__ = ["Guard", "Transition", "WorkflowTable", "WrongState", "allowed_actions", "check"]

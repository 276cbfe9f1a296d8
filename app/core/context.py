"""Per-request facts (request id, client address, who is calling) that the audit
trail and the logs read without threading them through every call."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    type: str  # user | client | anonymous | system
    id: str | None = None
    name: str | None = None


ANONYMOUS = Actor("anonymous")
SYSTEM = Actor("system", None, "system")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_address_var: ContextVar[str | None] = ContextVar("client_address", default=None)
actor_var: ContextVar[Actor] = ContextVar("actor", default=SYSTEM)

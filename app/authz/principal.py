"""The authenticated caller, as routes and services see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.authz.roles import ROLE_PERMISSIONS, Permission
from app.core.context import Actor
from app.models.identity import Role


@dataclass(frozen=True)
class Grant:
    """One membership, plus the extra organisations it reaches (an office's member units)."""

    organisation_id: uuid.UUID
    role: Role
    extra_roots: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "client"
    id: uuid.UUID
    name: str
    grants: tuple[Grant, ...] = ()
    client_permissions: frozenset[Permission] = frozenset()
    client_organisation_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    must_change_password: bool = False
    # Which of the organisations the caller's scope starts from are roots of their tree (a province,
    # a national body): read with the grants, so `holds_at_root` needs no query of its own.
    root_organisations: frozenset[uuid.UUID] = frozenset()

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, str(self.id), self.name)

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.kind == "client":
            return self.client_permissions
        granted: set[Permission] = set()
        for grant in self.grants:
            granted |= ROLE_PERMISSIONS[grant.role]
        return frozenset(granted)

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}

    def scope_roots(self, permission: Permission) -> set[uuid.UUID]:
        """Organisations whose subtrees the caller may use `permission` in."""
        if self.kind == "client":
            return {self.client_organisation_id} if (
                permission in self.client_permissions and self.client_organisation_id) else set()
        roots: set[uuid.UUID] = set()
        for grant in self.grants:
            if permission in ROLE_PERMISSIONS[grant.role]:
                roots.add(grant.organisation_id)
                roots.update(grant.extra_roots)
        return roots

    def holds_at_root(self, permission: Permission) -> bool:
        """The caller holds `permission` at a root organisation (users without memberships are
        theirs to see: app.services.users)."""
        return not self.root_organisations.isdisjoint(self.scope_roots(permission))

    def roles_at(self, organisation_id: uuid.UUID) -> set[Role]:
        """Roles held at exactly this organisation (workflow steps are taken *at* an organisation)."""
        return {g.role for g in self.grants if g.organisation_id == organisation_id}

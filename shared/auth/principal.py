"""Who is calling the portal API, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.core.errors import Forbidden


class Role(StrEnum):
    ADMIN = "Connector.Admin"
    APPROVER = "Connector.Approver"


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    username: str
    roles: frozenset[Role]
    name: str = ""
    """The person's display name, as the token gives it (the audit log keeps it)."""

    def require(self, *any_of: Role) -> Principal:
        if not self.roles.intersection(any_of):
            names = " or ".join(role.value for role in any_of)
            raise Forbidden(f"This needs the {names} role; ask your Entra ID administrator to assign it.")
        return self

"""The audit log: every change records who, what (entity, action, changed field names) and when."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.setup.models import AuditEntry, AuditEntryPublic, AuditPage
from shared.setup.tables import AuditRepository

_MAX_TICKS = 10**19


@dataclass(kw_only=True, eq=False)
class AuditLog:
    entries: AuditRepository
    clock: Clock

    def record(
        self, *, tenant_id: str, user_id: str, action: str, entity: str, entity_id: str, fields: Iterable[str] = ()
    ) -> AuditEntry:
        at = self.clock.now()
        # Inverted microseconds first, so that a partition reads newest first; the UUID keeps keys unique.
        inverted = _MAX_TICKS - int(at.timestamp() * 1_000_000)
        entry = AuditEntry(
            tenant_id=tenant_id,
            id=f"{inverted:020d}-{uuid.uuid4().hex[:8]}",
            at=at,
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            fields=sorted(set(fields)),
        )
        self.entries.create(entry)
        return entry

    def by(
        self, principal: Principal, *, action: str, entity: str, entity_id: str, fields: Iterable[str] = ()
    ) -> AuditEntry:
        """Record a change made by a signed-in portal user."""
        return self.record(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            fields=fields,
        )

    def page(self, principal: Principal, continuation: str | None, page_size: int = 50) -> AuditPage:
        principal.require(Role.ADMIN)
        page = self.entries.page(principal.tenant_id, page_size=page_size, continuation=continuation)
        items = [AuditEntryPublic(**entry.model_dump(exclude={"tenant_id"})) for entry in page.items]
        return AuditPage(items=items, continuation=page.continuation)

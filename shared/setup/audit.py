"""The audit log: every change records who (their user ID, and the name and e-mail their sign-in gave), what (entity,
action, changed field names, what it was about) and when."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from shared.auth.principal import Principal, Role
from shared.core.clock import Clock
from shared.setup.audit_models import AuditEntry, AuditFilter, AuditLine, AuditPage
from shared.setup.audit_words import describe
from shared.setup.models import FhirEndpoint
from shared.setup.tables import AuditRepository, FhirEndpointRepository

_MAX_TICKS = 10**19
EXPORT_LIMIT = 10_000
"""Rows in one CSV export: years of a clinic's changes; a narrower filter gives the rest."""


def _inverted(at: datetime) -> int:
    return _MAX_TICKS - int(at.timestamp() * 1_000_000)


@dataclass(kw_only=True, eq=False)
class AuditLog:
    entries: AuditRepository
    clock: Clock
    endpoints: FhirEndpointRepository | None = None
    """Names the endpoints of entries written before they carried their subject."""

    def record(
        self,
        *,
        tenant_id: str,
        user_id: str,
        action: str,
        entity: str,
        entity_id: str,
        fields: Iterable[str] = (),
        subject: str | None = None,
        environment: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> AuditEntry:
        at = self.clock.now()
        # Inverted microseconds first, so that a partition reads newest first; the UUID keeps keys unique.
        entry = AuditEntry(
            tenant_id=tenant_id,
            id=f"{_inverted(at):020d}-{uuid.uuid4().hex[:8]}",
            at=at,
            user_id=user_id,
            name=name or None,
            email=email or None,
            action=action,
            entity=entity,
            entity_id=entity_id,
            subject=subject,
            environment=environment,
            fields=sorted(set(fields)),
        )
        self.entries.create(entry)
        return entry

    def by(
        self,
        principal: Principal,
        *,
        action: str,
        entity: str,
        entity_id: str,
        fields: Iterable[str] = (),
        subject: str | None = None,
        environment: str | None = None,
    ) -> AuditEntry:
        """Record a change made by a signed-in portal user, named as their token names them now."""
        return self.record(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            name=principal.name,
            email=principal.username,
            action=action,
            entity=entity,
            entity_id=entity_id,
            fields=fields,
            subject=subject,
            environment=environment,
        )

    def page(
        self,
        principal: Principal,
        continuation: str | None,
        page_size: int = 50,
        filters: AuditFilter | None = None,
    ) -> AuditPage:
        principal.require(Role.ADMIN)
        query, parameters = _query(filters or AuditFilter())
        page = self.entries.page(
            principal.tenant_id, query=query, parameters=parameters, page_size=page_size, continuation=continuation
        )
        return AuditPage(items=self._lines(principal, page.items), continuation=page.continuation)

    def export(self, principal: Principal, filters: AuditFilter) -> list[AuditLine]:
        """Every matching entry, newest first, up to EXPORT_LIMIT."""
        principal.require(Role.ADMIN)
        query, parameters = _query(filters)
        rows: list[AuditEntry] = []
        for entry in self.entries.iterate(principal.tenant_id, query=query, parameters=parameters):
            rows.append(entry)
            if len(rows) >= EXPORT_LIMIT:
                break
        return self._lines(principal, rows)

    def _lines(self, principal: Principal, entries: Iterable[AuditEntry]) -> list[AuditLine]:
        endpoints = {e.id: e for e in self._endpoints(principal.tenant_id)}
        return [
            AuditLine(**entry.model_dump(exclude={"tenant_id"}), summary=describe(entry, endpoints))
            for entry in entries
        ]

    def _endpoints(self, tenant_id: str) -> Iterator[FhirEndpoint]:
        return self.endpoints.iterate(tenant_id) if self.endpoints is not None else iter(())


def _query(filters: AuditFilter) -> tuple[str | None, dict[str, object]]:
    """OData over the row keys (time, inverted) and the entry's own fields."""
    clauses: list[str] = []
    parameters: dict[str, object] = {}
    if filters.person:
        clauses.append("( user_id eq @person or email eq @person )")
        parameters["person"] = filters.person.strip().lower()
    if filters.action:
        clauses.append("action eq @action")
        parameters["action"] = filters.action
    if filters.before is not None:
        clauses.append("RowKey ge @newest")  # newer rows have smaller keys
        parameters["newest"] = f"{_inverted(filters.before) + 1:020d}"
    if filters.since is not None:
        clauses.append("RowKey lt @oldest")
        parameters["oldest"] = f"{_inverted(filters.since) + 1:020d}"
    return (" and ".join(clauses) or None), parameters

"""The audit log: who changed what in the organisation's setup, newest first."""

from __future__ import annotations

from functions.portal.parameters import AuditQuery
from functions.portal.registry import Call, api
from shared.setup.models import AuditPage


@api.route(
    "GET",
    "portal/audit",
    summary="The audit log, newest first (admins)",
    tag="audit",
    response=AuditPage,
    parameters=AuditQuery,
)
def audit_log(call: Call[None]) -> AuditPage:
    return call.runtime.setup.audit.page(call.principal, call.checked(AuditQuery).continuation)

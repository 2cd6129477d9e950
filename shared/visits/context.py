"""Which visit a launch is for, taken only from what the EHR vouches for: the token response's context.

The token response comes from the EHR over TLS in exchange for our PKCE-bound code, so its context is the EHR's
word: `encounter`, `appointment` and `fhirContext` (SMART), and the extra context an EHR returns with the token
(Epic returns the FDI record's token-response parameters there: the visit CSN, the group-visit conference ID and
the performing department). Launch URL parameters are not: anyone can edit them in the address bar. They are
never used to identify the visit, the department or the EHR identifiers that writeback names; when one of them
disagrees with the EHR's own value, the launch is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.visits.models import VisitReferences

# Extra token-response context, by the name the launch record keeps it under, and the names EHRs use for it.
TOKEN_CONTEXT: dict[str, tuple[str, ...]] = {
    "session_id": ("csn", "sessionId"),
    "conference_id": ("conferenceId",),
    "department_id": ("departmentId",),
}
MAX_CONTEXT = 200


class ContextMismatch(Exception):
    """A launch URL parameter names another visit than the EHR vouched for."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _text(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:MAX_CONTEXT]
    return None


def vouched(token: Mapping[str, Any]) -> dict[str, str]:
    """The extra visit context of a token response (CSN, conference ID, department), by our names."""
    found: dict[str, str] = {}
    for name, aliases in TOKEN_CONTEXT.items():
        value = next((text for alias in aliases if (text := _text(token.get(alias)))), None)
        if value is not None:
            found[name] = value
    return found


def cross_check(token: Mapping[str, Any], record: Mapping[str, str]) -> None:
    """Launch URL parameters may only agree with the EHR's context; one that names something else is refused.
    A parameter the EHR did not vouch for is ignored (it is not evidence of anything)."""
    context = vouched(token)
    for name, claimed in record.items():
        if claimed and name in context and claimed[:MAX_CONTEXT] != context[name]:
            raise ContextMismatch(name)


def _appointment_id(token: Mapping[str, Any]) -> str | None:
    if (appointment := _text(token.get("appointment"))) is not None:
        return appointment
    for context in token.get("fhirContext") or []:
        reference = context.get("reference") if isinstance(context, dict) else None
        if isinstance(reference, str) and reference.startswith("Appointment/") and len(reference) > 12:
            return reference.removeprefix("Appointment/")[:MAX_CONTEXT]
    return None


def visit_references(token: Mapping[str, Any]) -> VisitReferences:
    """The EHR's identifiers of the visit, for writeback and reports (no patient details)."""
    context = vouched(token)
    appointment = _appointment_id(token)
    return VisitReferences(
        conference_id=context.get("conference_id"),
        csn=context.get("session_id"),
        appointment_ids=[appointment] if appointment else [],
        department_id=context.get("department_id"),
    )


def visit_reference(token: Mapping[str, Any]) -> str | None:
    """Which visit this launch is for: a group conference (every participant's launch names it), then the visit
    CSN, then the SMART appointment or encounter."""
    context = vouched(token)
    if "conference_id" in context:
        return f"conference:{context['conference_id']}"
    if "session_id" in context:
        return f"csn:{context['session_id']}"
    if (appointment := _appointment_id(token)) is not None:
        return f"appointment:{appointment}"
    if (encounter := _text(token.get("encounter"))) is not None:
        return f"encounter:{encounter}"
    return None

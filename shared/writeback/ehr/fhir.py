"""Any FHIR R4 server: an AuditEvent per connect and disconnect, referencing the visit's Appointment, and the
Appointment's status: `arrived` when the patient first connects (the patient for certain, never a guess at who
is the patient), `fulfilled` when the call ends; and the patient participant's status `accepted` when the patient
confirms by replying to a text. Changes read the Appointment and write it back with `If-Match`, so a clinic's own
change made meanwhile is not lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.visits.models import VisitEvent
from shared.writeback.ehr import VisitContext, WritebackError
from shared.writeback.ehr.client import EhrClient

DCM = "http://dicom.nema.org/resources/ontology/DCM"


ACTIONS = {"participant_joined": ("110122", "Login"), "participant_left": ("110123", "Logout")}


ROLE_CODES = {"clinician": "PPRF", "patient": "SBJ", "guest": "PART"}


ROLES = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


PARTICIPANT_SYSTEM = "urn:ehr-virtual-visits-connector:participant"


ARRIVES_FROM = frozenset({"proposed", "pending", "booked", "checked-in"})


FINAL = frozenset({"fulfilled", "cancelled", "noshow", "entered-in-error"})


UPDATE_ATTEMPTS = 3


def _iso(event: VisitEvent) -> str:
    return event.at.isoformat().replace("+00:00", "Z")


def audit_event(visit: VisitContext, event: VisitEvent, appointment_id: str) -> dict[str, Any]:
    code, display = ACTIONS[event.kind]
    role = event.role or "guest"
    said = f"{role} (role estimated)" if event.estimate else role
    if event.estimate:  # the EHR is not told someone is the patient (SBJ) on a guess
        role = "guest"
    return {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110114", "display": "User Authentication"},
        "subtype": [{"system": DCM, "code": code, "display": display}],
        "action": "E",
        "recorded": _iso(event),
        "outcome": "0",
        "outcomeDesc": f"{said} {'connected to' if event.kind == 'participant_joined' else 'disconnected from'} "
        "the virtual visit",
        "agent": [
            {
                "type": {"coding": [{"system": ROLES, "code": ROLE_CODES[role]}]},
                "who": {"identifier": {"system": PARTICIPANT_SYSTEM, "value": event.participant}},
                "requestor": role == "clinician",
            }
        ],
        "source": {
            "observer": {"display": visit.settings.vendor_name},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": [
            {
                "what": {"reference": f"Appointment/{appointment_id}"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "2",
                    "display": "System Object",
                },
            }
        ],
    }


class FhirWriteback:
    def __init__(self, client: EhrClient) -> None:
        self._client = client

    def write(self, visit: VisitContext, event: VisitEvent) -> None:
        appointments = visit.references.appointment_ids
        if event.kind in ACTIONS or event.kind == "call_ended":
            if not appointments:
                raise WritebackError(
                    "The visit's FHIR Appointment is not known yet (it arrives with a launch from the EHR); replay "
                    "this writeback after the visit has been launched.",
                    retryable=False,
                )
        base = visit.endpoint.base_url.rstrip("/")
        if event.kind in ACTIONS and event.participant:
            for appointment in appointments:
                answer = self._client.request(
                    visit,
                    "POST",
                    f"{base}/AuditEvent",
                    json=audit_event(visit, event, appointment),
                    headers={"Content-Type": "application/fhir+json"},
                    what="AuditEvent",
                )
                if answer.status_code >= 300:
                    raise WritebackError(
                        f"AuditEvent: the EHR refused it (HTTP {answer.status_code}).", retryable=False
                    )
        certain_patient = event.role == "patient" and not event.estimate  # a guess claims no arrival
        if event.kind == "participant_joined" and certain_patient and not visit.patient_seen_before:
            for appointment in appointments:
                self._set_status(visit, base, appointment, "arrived", ARRIVES_FROM)
        elif event.kind == "call_ended":
            for appointment in appointments:
                self._set_status(visit, base, appointment, "fulfilled", None)

    def accept(self, visit: VisitContext, appointment: str) -> None:
        """The patient confirmed the visit: the patient participant's status is `accepted`."""
        base = visit.endpoint.base_url.rstrip("/")

        def accepted(resource: dict[str, Any]) -> dict[str, Any] | None:
            if str(resource.get("status", "")) in FINAL:
                return None  # past it: nothing to confirm
            participants = resource.get("participant") or []
            patients = [p for p in participants if _is_patient(p)]
            if not patients:
                raise WritebackError(f"Appointment/{appointment} names no patient participant.", retryable=False)
            if all(p.get("status") == "accepted" for p in patients):
                return None
            changed = [{**p, "status": "accepted"} if _is_patient(p) else p for p in participants]
            return {**resource, "participant": changed}

        self._update(visit, base, appointment, accepted)

    def _set_status(
        self, visit: VisitContext, base: str, appointment: str, status: str, only_from: frozenset[str] | None
    ) -> None:
        def changed(resource: dict[str, Any]) -> dict[str, Any] | None:
            current = str(resource.get("status", ""))
            if current == status or current in FINAL or (only_from is not None and current not in only_from):
                return None  # already there, or past it: nothing to change
            return {**resource, "status": status}

        self._update(visit, base, appointment, changed)

    def _update(
        self,
        visit: VisitContext,
        base: str,
        appointment: str,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
    ) -> None:
        """Read the Appointment, apply `change` (None: nothing to write) and write it with `If-Match`, again from
        the read when the EHR says it changed meanwhile."""
        url = f"{base}/Appointment/{appointment}"
        for _ in range(UPDATE_ATTEMPTS):
            read = self._client.request(visit, "GET", url, what="Appointment read")
            if read.status_code == 404:
                raise WritebackError(f"The EHR has no Appointment/{appointment}.", retryable=False)
            if read.status_code >= 300:
                raise WritebackError(f"Appointment read: the EHR answered HTTP {read.status_code}.", retryable=True)
            resource = read.json()
            updated = change(resource)
            if updated is None:
                return
            version = resource.get("meta", {}).get("versionId")
            etag = read.headers.get("ETag") or (f'W/"{version}"' if version else None)
            headers = {"Content-Type": "application/fhir+json", **({"If-Match": etag} if etag else {})}
            written = self._client.request(visit, "PUT", url, json=updated, headers=headers, what="Appointment update")
            if written.status_code < 300:
                return
            if written.status_code not in (409, 412):  # changed meanwhile: read again
                raise WritebackError(f"Appointment update: HTTP {written.status_code}.", retryable=False)
        raise WritebackError(f"Appointment/{appointment} kept changing while it was updated.", retryable=True)


def _is_patient(participant: Any) -> bool:
    reference = str(((participant or {}).get("actor") or {}).get("reference") or "")
    return reference.startswith("Patient/") or "/Patient/" in reference

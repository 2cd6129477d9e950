"""Who a launch's user is, by the EHR's word: never by the launch URL's path, which anyone can edit.

1. The FHIR resource type the EHR names the user by (the id_token's `fhirUser`, SMART v1's `profile`, or a
   `fhirUser` in the token response): a Practitioner or PractitionerRole is a clinician; a Patient, RelatedPerson
   or Person is a patient.
2. Where the EHR names no type (fhirUser not granted, a bare `sub`), the launch record's own word: the
   `launchRecord` token-response parameter the integration records ask the analyst to set on each record.
3. Otherwise nobody vouched for a clinician: the user is at most a patient, so a provider launch is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from shared.smart.references import resource_type

LaunchRole = Literal["clinician", "patient"]

CLINICIAN_TYPES = frozenset({"Practitioner", "PractitionerRole"})
PATIENT_TYPES = frozenset({"Patient", "RelatedPerson", "Person"})

RECORD_PARAMETER = "launchRecord"
"""The token-response parameter by which a launch record says which record it is (`provider` or `patient`)."""
RECORD_ROLES: dict[str, LaunchRole] = {"provider": "clinician", "patient": "patient"}


def launch_role(user_type: str | None, token_response: Mapping[str, Any]) -> LaunchRole | None:
    """The role the EHR vouches for, or None when it vouches for none (treated as a patient at most)."""
    if user_type in CLINICIAN_TYPES:
        return "clinician"
    if user_type in PATIENT_TYPES:
        return "patient"
    if user_type is not None:  # a user of another type (a Device, say) is nobody's clinician
        return None
    record = token_response.get(RECORD_PARAMETER)
    return RECORD_ROLES.get(record.strip().lower()) if isinstance(record, str) else None


def is_patient_reference(ehr_user_id: str) -> bool:
    """Whether a stored EHR user ID names a patient (such IDs were kept before roles came from the EHR)."""
    return resource_type(ehr_user_id) in PATIENT_TYPES

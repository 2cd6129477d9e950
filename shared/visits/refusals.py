"""What a clinician or patient reads when a visit cannot start: in plain words, with what to do."""

from __future__ import annotations

from shared.core.errors import DomainError
from shared.visits.roles import PATIENT_TYPES


def authorize_error(error: str, description: str | None) -> str:
    """What the person sees when the EHR's authorize step refused: its reason (RFC 6749 4.1.2.1), in its words."""
    reasons = {
        "access_denied": "You, or the EHR, did not allow the connector to start the visit",
        "unauthorized_client": "The EHR does not allow the connector's client to start visits",
        "invalid_scope": "The EHR refused the access the connector asks for",
        "invalid_request": "The EHR refused the connector's request",
        "server_error": "The EHR had a problem",
        "temporarily_unavailable": "The EHR is busy",
    }
    reason = reasons.get(error, "The EHR refused the visit")
    said = f": \u201c{description.strip()[:200]}\u201d" if description and description.strip() else ""
    return (
        f"{reason} (the EHR said {error[:60]}{said}). Select \u201cBegin virtual visit\u201d in the EHR again; if "
        "this happens again, tell your EHR administrator what the EHR said."
    )


SIGN_IN_UNVERIFIED = (
    "The EHR's sign-in could not be checked, so the visit cannot start. Select \u201cBegin virtual visit\u201d in "
    "the EHR again; if this happens again, tell your EHR administrator (the connector's portal shows them why)."
)


class LaunchRefused(DomainError):
    """The visit cannot start; `detail` tells the clinician or patient what to do. `status` is the HTTP status."""

    title = "The virtual visit could not start"

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.status = status


def not_a_clinician(user_type: str | None) -> LaunchRefused:
    """A provider launch by someone the EHR did not vouch for as a clinician."""
    if user_type in PATIENT_TYPES:
        return LaunchRefused(
            "This button starts visits for clinicians, and you signed in to the EHR as a patient. Join your visit "
            "from the \u201cBegin virtual visit\u201d button in your patient portal, or from the link in your text "
            "message.",
            status=403,
        )
    return LaunchRefused(
        "The EHR did not say that you are a clinician, so the visit cannot start for a clinician. Ask your EHR "
        "administrator to let the connector's client read who signed in (the fhirUser scope).",
        status=403,
    )

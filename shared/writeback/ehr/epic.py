"""Epic: connect and disconnect go to the telehealth connection-status web service (Epic's
`SetExternalConnectionStatus`), which lets Hyperspace show who is in the video visit. Its full specification is
gated by Epic, so the path is configurable per endpoint; the body carries what the service is documented to
take: the conference ID (the group conference, else the visit CSN), an external ID (our opaque participant ID),
the vendor name and the status."""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.visits.models import VisitEvent
from shared.writeback.ehr import VisitContext, WritebackError
from shared.writeback.ehr.client import EhrClient

STATUS = {"participant_joined": "Connected", "participant_left": "Disconnected"}


def server_root(base_url: str) -> str:
    """Epic's server root: the FHIR base URL without its `/api/FHIR/<version>` part, else its origin."""
    lowered = base_url.lower()
    marker = lowered.find("/api/fhir/")
    if marker >= 0:
        return base_url[:marker]
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def service_url(base_url: str, path: str) -> str:
    return path if path.startswith(("https://", "http://")) else server_root(base_url) + path


class EpicConnectionStatus:
    def __init__(self, client: EhrClient) -> None:
        self._client = client

    def write(self, visit: VisitContext, event: VisitEvent) -> None:
        status = STATUS.get(event.kind)
        if status is None or event.participant is None:
            return
        conference = visit.references.conference_id or visit.references.csn
        if not conference:
            raise WritebackError(
                "Epic needs the visit's conference ID or CSN, which arrives with a launch from Epic; replay this "
                "writeback after the clinician has launched the visit.",
                retryable=False,
            )
        body = {
            "ConferenceID": conference,
            "ExternalID": event.participant,
            "VendorName": visit.settings.vendor_name,
            "ConnectionStatus": status,
        }
        url = service_url(visit.endpoint.base_url, visit.settings.epic_path)
        response = self._client.request(visit, "POST", url, json=body, what="connection status")
        if response.status_code >= 300:
            raise WritebackError(
                f"connection status: the EHR refused it (HTTP {response.status_code}); check the web service "
                "path in the endpoint's writeback settings.",
                retryable=False,
            )

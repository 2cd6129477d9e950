"""The clinician's visit session: after a provider launch, a signed cookie lets the clinician's browser read who
is connected to that one visit (`GET /api/visits/{key}/participants`) without a portal sign-in. It is bound to
the organisation, the visit and the EHR user, expires after a working day, and is signed (HMAC-SHA256) with
the join-link key under a label of its own, so neither kind of token passes for the other. Like join links, it
names its key (`k`), and the current and previous join-link keys are accepted, so a rotation signs nobody out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.core.clock import Clock
from shared.core.errors import Unauthenticated
from shared.secrets import SecretStore
from shared.secrets.keyring import seal_with, unseal_with
from shared.visits.join_links import join_link_keys
from shared.visits.roles import is_patient_reference

COOKIE = "visit_session"


LIFETIME = timedelta(hours=12)


_LABEL = b"visit-session|"


@dataclass(frozen=True)
class VisitSession:
    tenant_id: str
    appointment_key: str
    ehr_user: str
    expires: datetime
    endpoint_id: str | None = None  # absent from sessions issued before the visit panel


@dataclass(kw_only=True, eq=False)
class VisitSessions:
    secrets: SecretStore
    clock: Clock

    def __post_init__(self) -> None:
        self._keys = join_link_keys(self.secrets, self.clock)

    def issue(self, tenant_id: str, appointment_key: str, ehr_user: str, endpoint_id: str | None = None) -> str:
        expires = int((self.clock.now() + LIFETIME).timestamp())
        payload = {"t": tenant_id, "a": appointment_key, "u": ehr_user, "exp": expires}
        if endpoint_id:
            payload["e"] = endpoint_id
        return seal_with(self._keys, payload, label=_LABEL)

    def verify(self, token: str) -> VisitSession:
        refused = Unauthenticated(
            "Your visit session is not valid or has expired; launch the visit from the EHR again."
        )
        claims = unseal_with(self._keys, token, label=_LABEL) if len(token) <= 2000 else None
        if claims is None:
            raise refused
        try:
            session = VisitSession(
                tenant_id=str(claims["t"]),
                appointment_key=str(claims["a"]),
                ehr_user=str(claims["u"]),
                expires=datetime.fromtimestamp(int(claims["exp"]), UTC),
                endpoint_id=str(claims["e"]) if "e" in claims else None,
            )
        except (ValueError, KeyError, TypeError):
            raise refused from None
        if self.clock.now() >= session.expires or is_patient_reference(session.ehr_user):
            raise refused  # (sessions were once issued to patients who launched through the clinicians' record)
        return session

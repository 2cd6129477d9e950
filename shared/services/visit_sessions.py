"""The clinician's visit session: after a provider launch, a signed cookie lets the clinician's browser read who
is connected to that one visit (`GET /api/visits/{key}/participants`) without a portal sign-in. It is bound to
the organisation, the visit and the EHR user, expires after a working day, and is signed (HMAC-SHA256) with
the join-link key under a label of its own, so neither kind of token passes for the other."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.clock import Clock
from shared.encoding import b64url, unb64url
from shared.errors import Unauthenticated
from shared.secrets import SecretStore
from shared.services.join_links import SECRET_NAME

COOKIE = "visit_session"
LIFETIME = timedelta(hours=12)
_LABEL = b"visit-session|"


@dataclass(frozen=True)
class VisitSession:
    tenant_id: str
    appointment_key: str
    ehr_user: str
    expires: datetime


class VisitSessions:
    def __init__(self, secrets: SecretStore, clock: Clock) -> None:
        self._secrets = secrets
        self._clock = clock

    def _mac(self, body: str) -> str:
        key = hashlib.sha256(self._secrets.get(SECRET_NAME).encode()).digest()
        return b64url(hmac.new(key, _LABEL + body.encode(), hashlib.sha256).digest())

    def issue(self, tenant_id: str, appointment_key: str, ehr_user: str) -> str:
        expires = int((self._clock.now() + LIFETIME).timestamp())
        body = b64url(
            json.dumps(
                {"t": tenant_id, "a": appointment_key, "u": ehr_user, "exp": expires}, separators=(",", ":")
            ).encode()
        )
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str) -> VisitSession:
        refused = Unauthenticated(
            "Your visit session is not valid or has expired; launch the visit from the EHR again."
        )
        body, _, signature = token.partition(".")
        if not body or not signature or len(token) > 2000 or not hmac.compare_digest(self._mac(body), signature):
            raise refused
        try:
            claims = json.loads(unb64url(body))
            session = VisitSession(
                tenant_id=str(claims["t"]),
                appointment_key=str(claims["a"]),
                ehr_user=str(claims["u"]),
                expires=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise refused from None
        if self._clock.now() >= session.expires:
            raise refused
        return session

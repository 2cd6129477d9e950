"""The server-side half of an OAuth round trip: kept until the EHR redirects back, used once, short-lived."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class LaunchState(BaseModel):
    purpose: Literal["approval", "provider", "patient"]
    state: str
    tenant_id: str
    endpoint_id: str
    user_id: str = ""
    verifier: str
    nonce: str
    redirect_uri: str
    expires_at: datetime
    # The launch record's extra parameters (sessionId, conferenceId, departmentId), until the callback.
    record: dict[str, str] = {}

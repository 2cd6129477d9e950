"""How an endpoint's clinician launches behave: where they land, and whether a clinician signs in to Microsoft 365
once so that their meetings are their own; and the language of its patients who have none of their own. None
touches the EHR, so changing them needs no new approval."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.core.locales import DEFAULT_LOCALE, PatientLocale

Landing = Literal["teams", "panel"]
LANDING = "Where a clinician's launch lands: teams (the meeting) or panel (who is connected, and a button to Teams)."
SIGN_IN = (
    "Whether a clinician without a linked Microsoft 365 account signs in once, on their first launch, so that their "
    "meetings are organised by them (their calendar, chat, recordings and Teams policies) rather than by the "
    "service organizer. Needs CLINICIAN_SIGN_IN_CLIENT_ID on the connector."
)
PATIENT_LOCALE = "The language of texts and pages for patients whose scheduling messages name none we ship (PID-15)."
LAUNCH_FIELDS = frozenset({"provider_landing", "clinician_sign_in", "patient_locale"})


class LaunchOptions(BaseModel):
    provider_landing: Landing = Field(default="teams", description=LANDING)
    clinician_sign_in: bool = Field(default=True, description=SIGN_IN)
    patient_locale: PatientLocale = Field(default=DEFAULT_LOCALE, description=PATIENT_LOCALE)


class LaunchOptionsUpdate(BaseModel):
    provider_landing: Landing | None = Field(default=None, description=LANDING)
    clinician_sign_in: bool | None = Field(default=None, description=SIGN_IN)
    patient_locale: PatientLocale | None = Field(default=None, description=PATIENT_LOCALE)

"""How an endpoint's clinician launches behave: where they land, and whether a clinician signs in to Microsoft 365
once so that their meetings are their own; whether patients join through Teams Virtual Appointment links; and the
language of its patients who have none of their own. None touches the EHR, so changing them needs no new
approval."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.core.errors import Unprocessable
from shared.core.locales import DEFAULT_LOCALE, PatientLocale

Landing = Literal["teams", "panel"]
LANDING = "Where a clinician's launch lands: teams (the meeting) or panel (who is connected, and a button to Teams)."
SIGN_IN = (
    "Whether a clinician without a linked Microsoft 365 account signs in once, on their first launch, so that their "
    "meetings are organised by them (their calendar, chat, recordings and Teams policies) rather than by the "
    "service organizer. Needs CLINICIAN_SIGN_IN_CLIENT_ID on the connector."
)
VIRTUAL_APPOINTMENT = (
    "Whether patients join through Teams Virtual Appointment links (join from a phone's browser without the Teams "
    "app, and the virtual lobby) where the meeting's organizer is a clinician who signed in. Their sign-in then also "
    "grants the connector Microsoft Graph's delegated VirtualAppointment.Read, kept as a refresh token in Key Vault. "
    "Needs clinician_sign_in."
)
PATIENT_LOCALE = "The language of texts and pages for patients whose scheduling messages name none we ship (PID-15)."
LAUNCH_FIELDS = frozenset({"provider_landing", "clinician_sign_in", "virtual_appointment_links", "patient_locale"})


class LaunchOptions(BaseModel):
    provider_landing: Landing = Field(default="teams", description=LANDING)
    clinician_sign_in: bool = Field(default=True, description=SIGN_IN)
    virtual_appointment_links: bool = Field(default=False, description=VIRTUAL_APPOINTMENT)
    patient_locale: PatientLocale = Field(default=DEFAULT_LOCALE, description=PATIENT_LOCALE)


class LaunchOptionsUpdate(BaseModel):
    provider_landing: Landing | None = Field(default=None, description=LANDING)
    clinician_sign_in: bool | None = Field(default=None, description=SIGN_IN)
    virtual_appointment_links: bool | None = Field(default=None, description=VIRTUAL_APPOINTMENT)
    patient_locale: PatientLocale | None = Field(default=None, description=PATIENT_LOCALE)


def check_launch_options(options: LaunchOptions) -> None:
    if options.virtual_appointment_links and not options.clinician_sign_in:
        raise Unprocessable(
            "Virtual Appointment links need the clinicians' Microsoft 365 sign-in: turn clinician_sign_in on too.",
            {"virtual_appointment_links": "Needs the clinicians' Microsoft 365 sign-in (clinician_sign_in)."},
        )

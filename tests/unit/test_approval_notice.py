"""The endpoint form's notice names exactly the changes that keep an approval: if the API's cosmetic fields
change, the notice must change with them."""

from __future__ import annotations

from pathlib import Path

from shared.setup.endpoints import COSMETIC_FIELDS

NOTICE_NAMES = {
    "display_name": "the display name",
    "provider_landing": "what a clinician's launch opens",
    "clinician_sign_in": "the Microsoft 365",
    "virtual_appointment_links": "the Virtual Appointment links",
    "patient_locale": "the patients' language",
}


def test_the_portal_names_every_change_that_keeps_the_approval_and_no_other() -> None:
    assert set(COSMETIC_FIELDS) == set(NOTICE_NAMES)
    script = (Path(__file__).parents[2] / "web" / "js" / "views" / "endpoints.js").read_text(encoding="utf-8")
    notice = script.split("keeps the approval")[0].rsplit('"Changing', 1)[1]
    assert all(words in notice for words in NOTICE_NAMES.values())

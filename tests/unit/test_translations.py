"""The gettext catalogs: the template (messages.pot) holds every marked string as extraction finds it today, and
every shipped language translates all of them, keeping each placeholder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from shared.core.i18n import LOCALES_DIR, html_lang, translate
from shared.core.locales import LOCALES
from shared.messaging.invite_texts import invite_body
from shared.messaging.templates import (
    DEFAULT_TEMPLATES,
    LocaleTemplates,
    SmsTemplates,
    TranslatedLocale,
    template_for,
)

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def msgids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


def test_the_template_holds_what_extraction_finds(tmp_path: Path) -> None:
    extracted = tmp_path / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_"]
    subprocess.run([*command, "--no-location", "--omit-header", "-o", str(extracted), "."], cwd=ROOT, check=True)
    assert msgids(extracted) == msgids(LOCALES_DIR / "messages.pot"), "re-extract: see README, Translations"


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if not locale.startswith("en")])
def test_every_shipped_language_translates_every_string_with_its_placeholders(locale: str) -> None:
    language = locale.split("_")[0]
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    expected = msgids(LOCALES_DIR / "messages.pot")
    assert {str(m.id) for m in catalog if m.id} == expected
    for message in catalog:
        if message.id:
            assert message.string and not message.fuzzy, f"{language} lacks {message.id!r}"
            assert sorted(PLACEHOLDER.findall(str(message.string))) == sorted(PLACEHOLDER.findall(str(message.id)))
            assert translate(locale, str(message.id)) == message.string


def test_english_and_unknown_languages_read_the_msgid() -> None:
    assert translate("en_US", "a guest") == "a guest" == translate("fr_FR", "a guest") == translate(None, "a guest")
    assert translate("es_US", "a guest") == "invitado"
    assert (html_lang("es_US"), html_lang("en_US"), html_lang(None)) == ("es", "en", "en")


def test_a_patient_gets_the_endpoints_own_wording_in_their_locale_else_the_shipped_translation() -> None:
    english = SmsTemplates(reminder="{clinic}: see you {date} at {time}: {link}")
    overrides: dict[TranslatedLocale, LocaleTemplates] = {
        "es_US": LocaleTemplates(cancelled="{clinic}: cita cancelada ({date}, {time}).")
    }
    assert template_for(english, overrides, "reminder", "en_US") == english.reminder  # the admin's English
    assert template_for(english, overrides, "cancelled", "es_US") == "{clinic}: cita cancelada ({date}, {time})."
    spanish = template_for(english, overrides, "reminder", "es_US")  # not the admin's English: the translation
    assert spanish == translate("es_US", DEFAULT_TEMPLATES["reminder"]) and "recordatorio" in spanish


def test_an_invite_is_worded_in_the_clinics_patients_language() -> None:
    link = "https://example.org/api/join#t"
    assert invite_body("North Clinic", "interpreter", link) == (
        f"North Clinic: you are invited to a video visit as the interpreter. Join here: {link}"
    )
    assert invite_body("North Clinic", "guest", link, "es_US") == (
        f"North Clinic: lo invitan a una consulta por video como invitado. Únase aquí: {link}"
    )

"""The wording of texts to patients: the default templates (English msgids, translated by the gettext catalogs in
shared/locales), an endpoint's own English templates, and its overrides for the other shipped locales."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.core.i18n import N_, translate

DEFAULT_TEMPLATES: dict[str, str] = {
    "scheduled": N_(
        "{clinic}: your video visit is booked for {date} at {time}. Join here: {link} Reply STOP to opt out."
    ),
    "rescheduled": N_(
        "{clinic}: your video visit changed; it is now on {date} at {time}. Join here: {link} Reply STOP to opt out."
    ),
    "cancelled": N_("{clinic}: your video visit on {date} at {time} was cancelled. Reply STOP to opt out."),
    "reminder": N_("{clinic}: reminder, your video visit is on {date} at {time}. Join here: {link}"),
}
DEFAULT_TEMPLATES["confirmed"] = N_(
    "{clinic}: thank you, your video visit on {date} at {time} is confirmed. Join here: {link}"
)
# The second and third reminders say the same by default (one translation), each editable on its own.
DEFAULT_TEMPLATES["reminder2"] = DEFAULT_TEMPLATES["reminder3"] = DEFAULT_TEMPLATES["reminder"]

PLACEHOLDERS = ("{clinic}", "{date}", "{time}", "{link}", "{dial_in}")
TranslatedLocale = Literal["es_US"]  # the shipped locales other than English, whose templates override per locale


class SmsTemplates(BaseModel):
    """The endpoint's templates in English (and for every locale without a translation)."""

    model_config = ConfigDict(extra="forbid")

    scheduled: str = Field(default=DEFAULT_TEMPLATES["scheduled"], min_length=1, max_length=480)
    rescheduled: str = Field(default=DEFAULT_TEMPLATES["rescheduled"], min_length=1, max_length=480)
    cancelled: str = Field(default=DEFAULT_TEMPLATES["cancelled"], min_length=1, max_length=480)
    reminder: str = Field(default=DEFAULT_TEMPLATES["reminder"], min_length=1, max_length=480)
    reminder2: str = Field(default=DEFAULT_TEMPLATES["reminder2"], min_length=1, max_length=480)
    reminder3: str = Field(default=DEFAULT_TEMPLATES["reminder3"], min_length=1, max_length=480)
    confirmed: str = Field(default=DEFAULT_TEMPLATES["confirmed"], min_length=1, max_length=480)


class LocaleTemplates(BaseModel):
    """An endpoint's own wording in one locale; a template left out is the shipped translation."""

    model_config = ConfigDict(extra="forbid")

    scheduled: str | None = Field(default=None, min_length=1, max_length=480)
    rescheduled: str | None = Field(default=None, min_length=1, max_length=480)
    cancelled: str | None = Field(default=None, min_length=1, max_length=480)
    reminder: str | None = Field(default=None, min_length=1, max_length=480)
    reminder2: str | None = Field(default=None, min_length=1, max_length=480)
    reminder3: str | None = Field(default=None, min_length=1, max_length=480)
    confirmed: str | None = Field(default=None, min_length=1, max_length=480)


def template_for(
    english: SmsTemplates, overrides: dict[TranslatedLocale, LocaleTemplates], kind: str, locale: str
) -> str:
    """The template of `kind` a patient reading `locale` gets: the endpoint's own in that locale, else (English)
    the endpoint's English one, else the shipped translation of the default."""
    own = overrides.get(locale)  # type: ignore[call-overload]  # any locale string; only translated ones match
    chosen: str | None = getattr(own, kind) if own is not None else None
    if chosen:
        return chosen
    if locale.split("_", 1)[0] == "en":
        return str(getattr(english, kind))
    return translate(locale, DEFAULT_TEMPLATES[kind])

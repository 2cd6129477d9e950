"""The languages patients read: the locales the connector ships texts and pages in, and how a patient's language
as an EHR or a browser names it maps to one of them."""

from __future__ import annotations

from typing import Literal, get_args

PatientLocale = Literal["en_US", "es_US"]
LOCALES: tuple[str, ...] = get_args(PatientLocale)
DEFAULT_LOCALE: PatientLocale = "en_US"

# ISO 639-1 and 639-2 codes (HL7 table 0296 in practice) and the languages' English names, lower case.
_LANGUAGES: dict[str, PatientLocale] = {
    **dict.fromkeys(("en", "eng", "english"), "en_US"),
    **dict.fromkeys(("es", "spa", "spanish", "espanol", "español"), "es_US"),
}


def locale_for_language(code: str) -> PatientLocale | None:
    """The shipped locale of a language code (`es`, `SPA`, `es-MX`, `spa`, `Spanish`), or None when none fits."""
    value = code.strip().lower().replace("_", "-")
    return _LANGUAGES.get(value) or _LANGUAGES.get(value.split("-", 1)[0])


def locale_for_accept_language(header: str | None) -> PatientLocale | None:
    """The shipped locale a browser's Accept-Language prefers most (by q-value, then order), or None."""
    ranked: list[tuple[float, int, PatientLocale]] = []
    for index, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        locale = locale_for_language(tag) if tag.strip() and tag.strip() != "*" else None
        if locale is not None and weight > 0:
            ranked.append((-weight, index, locale))
    return min(ranked)[2] if ranked else None

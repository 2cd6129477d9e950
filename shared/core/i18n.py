"""Words as the reader's language has them: gettext catalogs in shared/locales, read with Babel from their `.po`
files (no compile step to forget). Strings are marked `_()` where said and `N_()` where only declared, for Babel's
extraction (see README, "Translations"); a string a catalog lacks is said in English."""

from __future__ import annotations

from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parents[1] / "locales"


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "translate later", which extraction looks for
    """Marks a string for extraction where it is declared; `_()` translates it where it is said."""
    return message


@cache
def _catalog(language: str) -> dict[str, str]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    from babel.messages.pofile import read_po  # heavy: only once a text or page is said in another language

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }


def translate(locale: str | None, message: str) -> str:
    """`message` (its English msgid) in `locale`'s language (es_US reads the `es` catalog), else as given."""
    language = (locale or "en").split("_", 1)[0].split("-", 1)[0].lower()
    if language == "en" or not language.isalpha():
        return message
    return _catalog(language).get(message, message)


def html_lang(locale: str | None) -> str:
    """The `lang` attribute of a page in `locale`: its language (`es`), English when none."""
    language = (locale or "en").split("_", 1)[0].lower()
    return language if language.isalpha() else "en"

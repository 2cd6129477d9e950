"""Words as the reader's language has them: gettext catalogs in shared/locales, read with Babel from their `.po`
files (no compile step to forget). Strings are marked `_()` where said and `N_()` where only declared, for Babel's
extraction (see README, "Translations"); a string a catalog lacks is said in English."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from functools import cache, partial
from pathlib import Path
from typing import BinaryIO

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


_MARKED = re.compile(r"\[\[(.+?)\]\]", re.S)


def localize(page: str, locale: str | None) -> str:
    """A page's `[[English]]` strings in `locale`'s words: HTML-escaped in the page, a JavaScript string's contents
    inside its script; `{{lang}}` is the page's language."""

    def said(match: re.Match[str], script: bool) -> str:
        text = translate(locale, " ".join(match.group(1).split()))
        if script:
            return json.dumps(text)[1:-1].replace("<", "\\u003c")
        return html.escape(text, quote=True)

    parts = re.split(r"(<script>.*?</script>)", page, flags=re.S)
    out = [_MARKED.sub(partial(said, script=part.startswith("<script>")), part) for part in parts]
    return "".join(out).replace("{{lang}}", html_lang(locale))


def extract_pages(
    fileobj: BinaryIO, keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extraction method for pages (babel.cfg): each `[[English]]` string, with its line."""
    text = fileobj.read().decode("utf-8")
    for match in _MARKED.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, "_", " ".join(match.group(1).split()), []

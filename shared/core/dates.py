"""Dates and times as the reader reads them: CLDR's patterns for the reader's locale (Babel), in the time zone of
the appointment, with the zone's short name always shown ("Mon, Dec 7" and "12:56 PM CST" in en_US).

Babel is imported inside the functions: a cold start never needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_LOCALE = "en_US"

# Texts go by SMS, where a narrow or no-break space (CLDR's before "PM" in some locales) is outside GSM-7 and would
# make the whole text UCS-2, halving each segment; a plain space reads the same.
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


@dataclass(frozen=True)
class LocalTime:
    date: str
    """The weekday, month and day: "Mon, Dec 7" (en_US), "lun, 7 de dic" (es_US)."""
    time: str
    """The hour and minute with the zone's short name: "12:56 PM CST" (en_US), "12:56 p.m. CST" (es_US)."""


def local_time(moment: datetime, *, time_zone: str, locale: str) -> LocalTime:
    """`moment` (timezone-aware) in `time_zone` (IANA), written for a reader of `locale` (such as en_US or es_US)."""
    from babel import Locale
    from babel.dates import format_skeleton, format_time, get_timezone_gmt, get_timezone_name

    reader = Locale.parse(locale)
    local = moment.astimezone(ZoneInfo(time_zone))
    # The locale's own clock (12 or 24 hours, from its short time format), then its pattern with a zone.
    hours = "h" if "h" in reader.time_formats["short"].pattern else "H"
    zone = get_timezone_name(local, width="short", locale=reader)
    if " " in zone or zone[:1] in "+-":  # where the locale has no short name Babel gives the long one or "+0100"
        zone = get_timezone_gmt(local, width="long", locale=reader)
    quoted = "'" + zone.replace("'", "''") + "'"
    clock = str(reader.datetime_skeletons[f"{hours}mv"]).replace("v", quoted)
    date = format_skeleton("MMMEd", local, locale=reader)
    time = format_time(local, clock, locale=reader)
    return LocalTime(date=date.translate(_SPACES), time=time.translate(_SPACES))


def text_locale(country: str) -> str:
    """The locale of texts to an organisation's patients until they have their own: English as written in its SMS
    country (en_US, en_GB, en_DE...), or plain English where CLDR has no such locale."""
    from babel.localedata import exists

    candidate = f"en_{country}"
    return candidate if exists(candidate) else "en"

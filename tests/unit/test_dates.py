"""Dates and times in what patients read: CLDR's forms for the reader's locale, in the appointment's zone, with the
zone's short name always shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.core.dates import LocalTime, local_time, text_locale

MOMENT = datetime(2026, 12, 7, 18, 56, tzinfo=UTC)


def test_en_us_reads_a_twelve_hour_clock_with_the_zone() -> None:
    assert local_time(MOMENT, time_zone="America/Chicago", locale="en_US") == LocalTime("Mon, Dec 7", "12:56 PM CST")


def test_es_us_reads_its_own_form_with_plain_spaces() -> None:
    when = local_time(MOMENT, time_zone="America/Chicago", locale="es_US")
    assert when == LocalTime("lun, 7 de dic", "12:56 p.m. CST")
    assert "\u202f" not in when.time and "\u00a0" not in when.time  # GSM-7 has only the plain space


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), LocalTime("Sun, Mar 8", "1:30 AM CST")),
        (datetime(2026, 3, 8, 8, 30, tzinfo=UTC), LocalTime("Sun, Mar 8", "3:30 AM CDT")),  # the clocks went on
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), LocalTime("Sun, Nov 1", "1:30 AM CDT")),
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), LocalTime("Sun, Nov 1", "1:30 AM CST")),  # the same hour again
    ],
)
def test_the_zone_name_follows_daylight_saving_time(moment: datetime, expected: LocalTime) -> None:
    assert local_time(moment, time_zone="America/Chicago", locale="en_US") == expected


def test_a_zone_outside_the_us_reads_as_its_locale_writes_it() -> None:
    assert local_time(MOMENT, time_zone="Europe/Berlin", locale="en_DE") == LocalTime("Mon, 7 Dec", "19:56 CET")
    summer = datetime(2026, 7, 7, 18, 56, tzinfo=UTC)
    assert local_time(summer, time_zone="Europe/Berlin", locale="de_DE") == LocalTime("Di., 7. Juli", "20:56 MESZ")


def test_a_zone_the_locale_has_no_short_name_for_reads_as_its_offset() -> None:
    assert local_time(MOMENT, time_zone="Asia/Kolkata", locale="en_US") == LocalTime("Tue, Dec 8", "12:26 AM GMT+05:30")
    assert local_time(MOMENT, time_zone="Europe/Berlin", locale="es_US").time == "7:56 p.m. GMT+01:00"


def test_texts_read_english_as_written_in_the_organisations_sms_country() -> None:
    assert (text_locale("US"), text_locale("GB"), text_locale("DE")) == ("en_US", "en_GB", "en_DE")
    assert text_locale("ZZ") == "en"

"""SIU S12/S13/S14/S15/S17/S26 (v2.3 to v2.5.1) to a typed AppointmentEvent, with python-hl7.

Times: `YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]`; without an offset a time is the sender's local time, i.e. the
FHIR endpoint's time zone. Everything is returned in UTC. The patient's mobile number comes from PID-13 (cell
phone preferred), normalised to E.164; the event says why there is none rather than failing the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from shared.core.locales import PatientLocale, locale_for_language
from shared.hl7 import Hl7Rejected

SiuEvent = Literal["S12", "S13", "S14", "S15", "S17", "S26"]
EVENTS: frozenset[str] = frozenset(get_args(SiuEvent))
PhoneProblem = Literal["missing", "invalid", "unsupported country"]

YEARS = range(1900, 2201)  # plausible scheduling times; anything else is not a time (and cannot overflow)
_TIMESTAMP = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?(?:([+-])(\d{2})(\d{2}))?$")


class AppointmentStatus(StrEnum):
    """An appointment's status, normalised from SCH-25 (filler status) or the trigger event."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    NOSHOW = "noshow"
    COMPLETE = "complete"


_STATUS = {
    "booked": AppointmentStatus.BOOKED,
    "pending": AppointmentStatus.BOOKED,
    "started": AppointmentStatus.BOOKED,
    "cancelled": AppointmentStatus.CANCELLED,
    "canceled": AppointmentStatus.CANCELLED,
    "deleted": AppointmentStatus.DELETED,
    "noshow": AppointmentStatus.NOSHOW,
    "complete": AppointmentStatus.COMPLETE,
    "completed": AppointmentStatus.COMPLETE,
}
_EVENT_STATUS = {"S15": AppointmentStatus.CANCELLED, "S17": AppointmentStatus.DELETED, "S26": AppointmentStatus.NOSHOW}
_MINUTES = {"min": 1, "m": 1, "minutes": 1, "h": 60, "hr": 60, "hours": 60, "s": 1 / 60, "sec": 1 / 60}


class AppointmentEvent(BaseModel):
    """What a scheduling message says about one appointment (parsed at ingest to validate, and by the processor)."""

    message_id: str
    message_time: datetime | None
    event: SiuEvent
    appointment_id: str
    start: datetime
    end: datetime
    status: AppointmentStatus
    phone: str | None
    phone_problem: PhoneProblem | None
    visit_id: str | None
    provider_id: str | None
    locale: PatientLocale | None = None
    """The shipped locale of the patient's language (PID-15), when they have one and we ship it."""
    group_id: str | None = None
    """SCH-4, the Placer Group Number: the group visit every patient's appointment belongs to (the same identity as
    the launches' group conference ID, Epic's %CONFERENCEID%)."""


class _Segment:
    """One segment's fields, split as the message's MSH declares: a field's repetitions and components, each
    component unescaped (by python-hl7, when it holds the escape character)."""

    def __init__(self, line: str, separators: str, unescape: Callable[[str], str]) -> None:
        self._field_sep, self._component, self._repetition, self._escape = tuple(separators[:4])
        self._fields = line.split(self._field_sep)
        self._msh = self._fields[0] == "MSH"
        self._unescape = unescape

    def _raw(self, field: int) -> str:
        if self._msh and field == 1:
            return self._field_sep
        index = field - 1 if self._msh else field
        return self._fields[index] if 0 < index < len(self._fields) else ""

    def repetitions(self, field: int) -> list[str]:
        raw = self._raw(field)
        return raw.split(self._repetition) if raw else []

    def components(self, field: int, repetition: int = 1) -> list[str]:
        repetitions = self.repetitions(field)
        if repetition > len(repetitions):
            return []
        parts = repetitions[repetition - 1].split(self._component)
        return [self._unescape(c) if self._escape in c else c for c in parts]

    def value(self, field: int, component: int = 1, repetition: int = 1) -> str:
        components = self.components(field, repetition)
        return components[component - 1] if component <= len(components) else ""


def parse_timestamp(value: str, zone: ZoneInfo) -> datetime | None:
    """An HL7 DTM/TS as an aware UTC datetime; a time without an offset is in `zone`."""
    match = _TIMESTAMP.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    if int(year) not in YEARS:
        return None
    try:
        fields = (int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0))
        naive = datetime(*fields, int((fraction or "0").ljust(6, "0")[:6]))
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            aware = naive.replace(tzinfo=timezone(offset if sign == "+" else -offset))
        else:
            aware = naive.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _minutes(amount: str, units: str) -> float | None:
    try:
        value = float(amount)
    except ValueError:
        return None
    factor = _MINUTES.get(units.strip().lower(), None if units.strip() else 1)
    return value * factor if factor is not None and 0 < value * factor <= 24 * 60 else None


def mobile_number(pid: _Segment, region: str) -> tuple[str | None, PhoneProblem | None]:
    """The patient's mobile number from PID-13 in E.164: a cell phone first, then any phone; never email. A number
    without a country code is read as one of `region` (the organisation's SMS country); a number of another country
    is not used ("unsupported country")."""
    import phonenumbers

    candidates: list[tuple[int, str]] = []
    for index in range(1, len(pid.repetitions(13)) + 1):
        parts = pid.components(13, index) + [""] * 12
        unformatted, use, equipment, email, country, area, local = parts[:7]  # XTN.1 to XTN.7
        if equipment.upper() in {"INTERNET", "X.400"} or use.upper() == "NET" or "@" in unformatted + email:
            continue
        if area or local:
            number = f"+{country}{area}{local}" if country else f"{area}{local}"
        else:
            number = unformatted
        if number.strip():
            candidates.append((0 if equipment.upper() == "CP" else 1, number))
    if not candidates:
        return None, "missing"
    foreign = False
    for _, number in sorted(candidates, key=lambda c: c[0]):
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        # "Possible" (right length and form for its country), not "valid": numbering plans change faster than
        # the library, and a wrong number shows up as a failed delivery report rather than a silent skip.
        possible = phonenumbers.is_possible_number(parsed)
        of: str | None = phonenumbers.region_code_for_number(parsed) if possible else None
        if of == region:
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None
        foreign = foreign or of is not None
    return None, "unsupported country" if foreign else "invalid"


def _quiet() -> None:
    """python-hl7 logs the raw text of what it cannot parse (an unknown escape, a stray segment): message content,
    phone digits included. Its loggers are named after its files; silence them."""
    from hl7 import containers, util

    for module in (util, containers):
        logger = getattr(module, "logger", None)
        if logger is not None and not logger.disabled:
            logger.disabled = True


SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")


def _unescaper(msh: str) -> Callable[[str], str]:
    """python-hl7's unescaping (\\F\\, \\S\\, \\T\\, \\R\\, \\E\\, \\Xhh\\ ...) with this message's separators, set up
    only for a message that uses escapes."""
    parsed: list[Any] = []

    def unescape(value: str) -> str:
        if not parsed:
            import hl7

            _quiet()
            try:
                parsed.append(hl7.parse(msh))
            except Exception:  # noqa: BLE001 - python-hl7 raises several types on malformed input
                raise Hl7Rejected("The message is not well-formed HL7 v2.") from None
        return str(parsed[0].unescape(value))

    return unescape


def parse_siu(text: str, zone: ZoneInfo, phone_region: str = "US") -> AppointmentEvent:
    """The event of an unframed SIU message (see framing.unframe), or Hl7Rejected saying what is wrong."""
    msh_raw = text.split("\r", 1)[0]
    if len(msh_raw) < 8 or not msh_raw.startswith("MSH"):
        raise Hl7Rejected("The message does not start with an MSH segment.")
    field_sep = msh_raw[3]
    encoding = msh_raw[4:8]
    if len(set(encoding + field_sep)) != 5 or any(c.isalnum() for c in encoding + field_sep):
        raise Hl7Rejected("MSH-1 and MSH-2 do not declare usable separators.")
    separators, unescape = field_sep + encoding, _unescaper(msh_raw)
    by_type: dict[str, _Segment] = {}
    for line in text.split("\r"):
        if not line:
            continue
        name = line[:3]
        if not SEGMENT_NAME.match(name) or (len(line) > 3 and line[3] != field_sep):
            raise Hl7Rejected("The message is not well-formed HL7 v2.")
        if name not in by_type:  # the first of each: the event is read from MSH, SCH, TQ1, PID, PV1, AIS, AIP
            by_type[name] = _Segment(line, separators, unescape)
    msh = by_type["MSH"]
    message_type = msh.components(9)
    if not message_type or message_type[0] != "SIU":
        raise Hl7Rejected(f"Only SIU scheduling messages are accepted, not {(message_type or ['?'])[0][:10]}.")
    event = message_type[1] if len(message_type) > 1 else ""
    if event not in EVENTS:
        raise Hl7Rejected(f"SIU^{event[:5]} is not handled; send S12, S13, S14, S15, S17 or S26.")
    message_id = msh.value(10)
    if not message_id:
        raise Hl7Rejected("MSH-10 (message control ID) is empty.")
    sch = by_type.get("SCH")
    if sch is None:
        raise Hl7Rejected("The message has no SCH segment.")
    filler, placer = sch.components(2), sch.components(1)
    appointment_id = "^".join(p for p in (filler[:2] if filler and filler[0] else placer[:2]) if p)
    if not appointment_id:
        raise Hl7Rejected("Neither SCH-2 (filler) nor SCH-1 (placer) appointment ID is given.")

    start, end = _times(by_type, sch, zone)
    status_text = sch.value(25).strip().lower().replace(" ", "").replace("-", "")
    status = _STATUS.get(status_text) or _EVENT_STATUS.get(event, AppointmentStatus.BOOKED)
    pid = by_type.get("PID")
    phone, problem = mobile_number(pid, phone_region) if pid else (None, "missing")
    pv1 = by_type.get("PV1")
    aip = by_type.get("AIP")
    return AppointmentEvent(
        message_id=message_id[:200],
        message_time=parse_timestamp(msh.value(7), zone),
        event=event,
        appointment_id=appointment_id[:200],
        start=start,
        end=end,
        status=status,
        phone=phone,
        phone_problem=problem,
        visit_id=(pv1.value(19) or None) if pv1 else None,
        provider_id=((aip.value(3) if aip else "") or (pv1.value(7) if pv1 else "") or None),  # AIP-3, else PV1-7
        group_id=sch.value(4)[:200] or None,
        locale=patient_locale(pid) if pid else None,
    )


def patient_locale(pid: _Segment) -> PatientLocale | None:
    """PID-15, Primary Language (CWE): its code (`es`, `SPA`), else its text (`Spanish`) or alternate code."""
    parts = pid.components(15)
    return next((found for part in parts[:5] if part and (found := locale_for_language(part[:40]))), None)


def _times(by_type: dict[str, _Segment], sch: _Segment, zone: ZoneInfo) -> tuple[datetime, datetime]:
    tq1, ais = by_type.get("TQ1"), by_type.get("AIS")
    start = parse_timestamp(sch.value(11, 4), zone) or (parse_timestamp(tq1.value(7), zone) if tq1 else None)
    if start is None and ais is not None:
        start = parse_timestamp(ais.value(4), zone)
    if start is None:
        raise Hl7Rejected("The appointment has no start time (SCH-11.4, TQ1-7 or AIS-4).")
    end = parse_timestamp(sch.value(11, 5), zone) or (parse_timestamp(tq1.value(8), zone) if tq1 else None)
    if end is None:
        duration = _minutes(sch.value(9), sch.value(10))
        if duration is None and ais is not None:
            duration = _minutes(ais.value(7), ais.value(8))
        if duration is None:
            duration = _minutes(sch.value(11, 3), "min")
        if duration is None:
            raise Hl7Rejected("The appointment has no end time or duration (SCH-11.5, SCH-9, AIS-7).")
        end = start + timedelta(minutes=duration)
    if end <= start:
        raise Hl7Rejected("The appointment ends before it starts.")
    return start, end


def describe(event: AppointmentEvent) -> dict[str, Any]:
    """A loggable summary: no phone number, no names."""
    return {"message_id": event.message_id, "event": event.event, "status": event.status.value}

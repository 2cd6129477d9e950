"""SIU parsing, framing, signatures and ACKs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.core.errors import InvalidInput
from shared.core.locales import locale_for_accept_language, locale_for_language
from shared.hl7 import Hl7Rejected
from shared.hl7.ack import HTTP_STATUS, build_ack
from shared.hl7.framing import unframe
from shared.hl7.signature import load_certificate, verify_signature
from shared.hl7.siu import AppointmentEvent, AppointmentStatus, parse_siu, parse_timestamp
from tests.support.certs import certificate, der, pem, rsa_key, sign
from tests.support.hl7 import siu

SAMPLES = Path(__file__).parents[1] / "fixtures" / "hl7"
CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")


def sample(name: str) -> bytes:
    return (SAMPLES / f"{name}.hl7").read_bytes()


def parse(body: bytes, zone: ZoneInfo = CHICAGO, content_type: str | None = None) -> AppointmentEvent:
    return parse_siu(unframe(body, content_type), zone)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("S12", AppointmentStatus.BOOKED),
        ("S13", AppointmentStatus.BOOKED),
        ("S14", AppointmentStatus.BOOKED),
        ("S15", AppointmentStatus.CANCELLED),
        ("S17", AppointmentStatus.DELETED),
        ("S26", AppointmentStatus.NOSHOW),
    ],
)
def test_every_sample_parses(name: str, status: AppointmentStatus) -> None:
    event = parse(sample(name))
    assert event.event == name
    assert event.status == status
    assert event.appointment_id == "FL90210^EPIC"
    assert event.phone == "+12175550123"  # the cell phone, not the e-mail address
    assert event.visit_id == "778899001"
    assert event.provider_id == "1234"
    assert event.start.tzinfo == UTC and event.end - event.start == timedelta(minutes=30)


def test_the_clinician_comes_from_aip_3_else_pv1_7() -> None:
    """Epic sends the provider's ID in AIP-3; a system without AIP resources names the attending doctor in PV1-7."""
    body = sample("S12")
    without_aip = "\r".join(s for s in body.decode().split("\r") if not s.startswith("AIP")).encode()
    assert parse(without_aip).provider_id == "1234"
    neither = without_aip.replace(b"|1234^Clinician^Casey^^^Dr|", b"||")
    assert parse(neither).provider_id is None


@pytest.mark.parametrize(
    ("language", "locale"),
    [
        ("es", "es_US"),
        ("SPA", "es_US"),
        ("spa^Spanish^ISO6392", "es_US"),
        ("SPA^Spanish^HL70296", "es_US"),
        ("^Spanish", "es_US"),
        ("es-MX", "es_US"),
        ("en", "en_US"),
        ("ENG^English^HL70296", "en_US"),
        ("VIE^Vietnamese^HL70296", None),  # not shipped: the endpoint's default locale applies
        ("", None),
    ],
)
def test_the_patients_language_is_read_from_pid_15_as_a_shipped_locale(language: str, locale: str | None) -> None:
    body = siu("S12", datetime(2030, 1, 7, 15, tzinfo=UTC), language=language or None)
    assert parse(body).locale == locale
    assert parse(sample("S12")).locale is None  # no PID-15


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("es-US,es;q=0.9,en;q=0.8", "es_US"),
        ("en-US,en;q=0.9,es;q=0.8", "en_US"),
        ("fr-FR,es;q=0.5,en;q=0.7", "en_US"),
        ("de, *;q=0.1", None),
        ("es;q=0", None),
        ("es;q=abc, en", "en_US"),
        (None, None),
    ],
)
def test_a_browsers_accept_language_picks_a_shipped_locale(header: str | None, locale: str | None) -> None:
    assert locale_for_accept_language(header) == locale
    assert locale_for_language("español") == "es_US" and locale_for_language("xx") is None


def test_offsets_are_honoured_and_reschedule_moves_the_time() -> None:
    assert parse(sample("S12")).start == datetime(2025, 3, 18, 19, 0, tzinfo=UTC)  # 14:00 at -0500
    assert parse(sample("S13")).start != parse(sample("S12")).start


V23 = (
    "MSH|^~\\&|CADENCE|CLINIC|VV|ORG|202506021130||SIU^S12|CTRL77|P|2.3\n"
    "SCH||APT\\T\\77^EPIC||||||||||^^45^20250610083000\n"
    "PID|1||123||Roe^Rita||||||||(919)555-0100\n"
    "AIS|1||VV|20250610083000|||45|min\n"
)


def test_v23_without_offsets_uses_the_endpoint_time_zone_newlines_and_mllp() -> None:
    framed = b"\x0b" + V23.encode() + b"\x1c\x0d"
    event = parse(framed, NEW_YORK)
    assert event.start == datetime(2025, 6, 10, 12, 30, tzinfo=UTC)  # 08:30 EDT
    assert event.end - event.start == timedelta(minutes=45)  # from AIS duration
    assert event.appointment_id == "APT&77^EPIC"  # escape sequence decoded
    assert event.phone == "+19195550100"  # from PID-13.1 only
    assert event.message_time == datetime(2025, 6, 2, 15, 30, tzinfo=UTC)


def test_crlf_separators_and_latin1_charset() -> None:
    body = V23.replace("Roe", "Ro\xe9").replace("\n", "\r\n").encode("latin-1")
    assert parse(body, NEW_YORK, "application/hl7-v2; charset=ISO-8859-1").event == "S12"


def test_tq1_timing_for_v251_senders() -> None:
    message = (
        "MSH|^~\\&|A|B|C|D|20250601||SIU^S12^SIU_S12|C1|P|2.5.1\r"
        "SCH||F1\rTQ1|1||||||20250601100000+0100|20250601103000+0100\rPID|1\r"
    )
    event = parse(message.encode())
    assert (event.start, event.end) == (
        datetime(2025, 6, 1, 9, 0, tzinfo=UTC),
        datetime(2025, 6, 1, 9, 30, tzinfo=UTC),
    )
    assert (event.phone, event.phone_problem) == (None, "missing")


def test_unusable_phone_numbers_are_reported_not_fatal() -> None:
    event = parse(V23.replace("(919)555-0100", "12").encode(), NEW_YORK)
    assert (event.phone, event.phone_problem) == (None, "invalid")
    email_only = V23.replace("(919)555-0100", "^NET^Internet^rita@example.org")
    assert parse(email_only.encode(), NEW_YORK).phone_problem == "missing"


def test_patient_numbers_are_read_as_the_organisations_sms_country() -> None:
    """US by default: a UK number is not texted; a UK organisation (SMS_COUNTRIES allowing GB) reads national
    numbers as UK ones, and does not text a US number."""
    uk = V23.replace("(919)555-0100", "+44 7400 123456")
    assert (parse(uk.encode(), NEW_YORK).phone, parse(uk.encode(), NEW_YORK).phone_problem) == (
        None,
        "unsupported country",
    )
    national = V23.replace("(919)555-0100", "07400 123456")
    in_gb = parse_siu(national.replace("\n", "\r"), NEW_YORK, phone_region="GB")
    assert (in_gb.phone, in_gb.phone_problem) == ("+447400123456", None)
    us_in_gb = parse_siu(V23.replace("(919)", "+1 (919)").replace("\n", "\r"), NEW_YORK, phone_region="GB")
    assert (us_in_gb.phone, us_in_gb.phone_problem) == (None, "unsupported country")
    # A foreign cell phone beside a home phone of the country: the home phone is texted.
    both = V23.replace("(919)555-0100", "^PRN^CP^^44^7400^123456~(919)555-0100")
    assert parse(both.encode(), NEW_YORK).phone == "+19195550100"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "MSH"),
        (b"\x00\xff\xfe garbage", "not valid text"),
        (b"MSH|^~\\&|A", "SIU"),
        (sample("S12").replace(b"SIU^S12^SIU_S12", b"ADT^A01^ADT_A01"), "Only SIU"),
        (sample("S12").replace(b"SIU^S12^SIU_S12", b"SIU^S99^SIU_S12"), "not handled"),
        (sample("S12").replace(b"|MSG0001|", b"||"), "MSH-10"),
        (sample("S12").split(b"\rSCH")[0], "no SCH"),
        (V23.replace("^^45^20250610083000", "").replace("AIS|1||VV|20250610083000|||45|min\n", "").encode(), "start"),
    ],
)
def test_bad_messages_are_rejected_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(Hl7Rejected, match=reason):
        parse(body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_event_or_a_clean_rejection(body: bytes) -> None:
    try:
        parse(body)
    except Hl7Rejected:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mangled_samples_give_an_event_or_a_clean_rejection(data: st.DataObject) -> None:
    body = bytearray(sample(data.draw(st.sampled_from(["S12", "S13", "S15", "S26"]))))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(body) - 1))
        if data.draw(st.booleans()):
            del body[position]
        else:
            body.insert(position, data.draw(st.sampled_from(list(b"|^~\\&\r\n\x0b\x1c0123456789-+AZ"))))
    try:
        event = parse(bytes(body))
    except Hl7Rejected:
        return
    assert event.start < event.end


def test_timestamps() -> None:
    assert parse_timestamp("2025", CHICAGO) == datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    assert parse_timestamp("20250318140000.25+0130", CHICAGO) == datetime(2025, 3, 18, 12, 30, 0, 250000, tzinfo=UTC)
    assert parse_timestamp("20251302", CHICAGO) is None
    assert parse_timestamp("tomorrow", CHICAGO) is None


KEY = rsa_key()
CERT = certificate(KEY)


def test_signature_of_the_raw_bytes_verifies() -> None:
    body = sample("S12")
    verify_signature(body, sign(KEY, body), der(CERT), datetime.now(UTC))


@pytest.mark.parametrize(
    ("header", "body", "reason"),
    [
        (None, b"x", "missing"),
        ("SHA256withRSA abc", b"x", "must be"),
        ("SHA512withRSA !!!", b"x", "Base64"),
        (sign(KEY, b"original"), b"tampered", "does not match"),
        (sign(rsa_key(), b"x"), b"x", "does not match"),
    ],
)
def test_bad_signatures_are_rejected(header: str | None, body: bytes, reason: str) -> None:
    with pytest.raises(Hl7Rejected, match=reason):
        verify_signature(body, header, der(CERT), datetime.now(UTC))


def test_expired_certificate_is_rejected() -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    expired = certificate(KEY, not_before=past - timedelta(days=365), not_after=past)
    with pytest.raises(Hl7Rejected, match="expired"):
        verify_signature(b"x", sign(KEY, b"x"), der(expired), datetime.now(UTC))


def test_certificate_upload_accepts_pem_der_and_base64() -> None:
    now = datetime.now(UTC)
    infos = [load_certificate(data, now) for data in (pem(CERT), der(CERT), base64.b64encode(der(CERT)))]
    assert len({info.thumbprint for info in infos}) == 1
    assert infos[0].subject == "CN=EPIC HL7 signing"
    assert len(infos[0].thumbprint) == 40


@pytest.mark.parametrize("last_byte", b" \t\n\r\x0b\x0c")
def test_a_der_certificate_ending_in_a_whitespace_byte_is_taken_as_given(last_byte: int) -> None:
    """DER is binary: about 2% of certificates end in a byte that is whitespace in ASCII (a signature byte)."""
    found = next(c for c in (certificate(KEY) for _ in range(5000)) if der(c)[-1] == last_byte)
    assert load_certificate(der(found), datetime.now(UTC)).der == der(found)


def test_certificate_upload_refuses_what_cannot_be_used() -> None:
    now = datetime.now(UTC)
    private = KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    small = rsa_key(1024)
    past = now - timedelta(days=2)
    cases = {
        "private key": pem(CERT) + private,
        "1024 bits": pem(certificate(small)),
        "expired": pem(certificate(KEY, not_before=past - timedelta(days=9), not_after=past)),
        "not RSA": pem(certificate(ec.generate_private_key(ec.SECP256R1()))),
        "not an X.509": b"hello",
    }
    for reason, data in cases.items():
        with pytest.raises(InvalidInput, match=reason):
            load_certificate(data, now)


@pytest.mark.parametrize("name", ["S12", "S15", "S26"])
def test_an_ack_answers_the_original_as_the_standard_says(name: str) -> None:
    """HL7 v2.5 2.9.2: the ACK goes back the other way, names the trigger, has a control ID of its own and the
    original's processing ID and version, and MSA-2 quotes the original's MSH-10."""
    original = sample(name).decode().replace("\n", "\r").split("\r")[0].split("|")
    ack = build_ack(code="AR", message=sample(name).decode(), now=datetime(2025, 1, 1, tzinfo=UTC), text="bad|sig")
    msh, msa = (segment.split("|") for segment in ack.rstrip("\r").split("\r"))
    assert (msh[2], msh[3], msh[4], msh[5]) == (original[4], original[5], original[2], original[3])
    assert msh[6] == "20250101000000+0000"
    assert msh[8] == f"ACK^{original[8].split('^')[1]}^ACK"
    assert msh[9] and msh[9] != original[9]
    assert (msh[10], msh[11]) == (original[10], original[11])
    assert msa == ["MSA", "AR", original[9], "bad sig"]
    assert ack.endswith("\r") and not ack.endswith("\r\r")


@pytest.mark.parametrize("message", [None, "", "MSH|^~\\&|EPIC"])
def test_an_unreadable_message_gets_an_ack_of_our_own(message: str | None) -> None:
    ack = build_ack(code="AR", message=message, now=datetime.now(UTC), text="bad|sig")
    assert ack.split("\r")[0].startswith("MSH|^~\\&|VVCONNECTOR|")
    assert ack.split("\r")[1] == "MSA|AR||bad sig"
    assert HTTP_STATUS == {"AA": 200, "AR": 400, "AE": 500}


def test_python_hl7_never_logs_message_content(caplog: pytest.LogCaptureFixture) -> None:
    """An escape python-hl7 does not implement, inside the phone number: its warning would quote the field."""
    body = sample("S12").replace(b"^PRN^CP^^1^217^5550123", b"^PRN^CP^^1^217^555\\C2842\\0123")
    with caplog.at_level("DEBUG"):
        parse(body)
    assert not [r for r in caplog.records if "555" in r.getMessage()]


@pytest.mark.parametrize("value", ["00010101", "99991231235959-1200", "18991231", "22010101"])
def test_timestamps_out_of_range_are_not_times(value: str) -> None:
    assert parse_timestamp(value, CHICAGO) is None

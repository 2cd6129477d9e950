"""Join links for SMS: `{public}/api/join#{token}`, where the token is signed (HMAC-SHA256 with a key from the
secret store), bound to one appointment and one role, and valid from some minutes before the appointment's start
to some minutes after its end. The token carries the opaque appointment key, never the EHR's identifiers.

Texts are billed per segment (153 GSM-7 characters once a text has more than one), so the token is compact: a
packed binary form (version, tenant GUID, endpoint ID, appointment key, role, window) and a 128-bit HMAC, 94
characters in all. Identifiers that do not fit the packed form fall back to signed JSON (`body.signature`),
which is also how the first links were written; both are accepted.

The token is the URL's fragment, which browsers never send: no server, proxy or request log (the Functions host's
request telemetry keeps URLs for 90 days) sees it. The join page reads it and posts it. Links sent before that,
`{public}/api/join/{token}`, still work until they close.

Every token says which key signed it (shared/secrets/keyring.py): the packed form in its first byte (format 2: six
bits of the key ID; format 1, the links texted before key IDs, names none), the JSON form as `k`. The current and
the previous key are accepted, so links texted before a rotation of `join-link-key` keep working after it.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from shared.core.clock import Clock
from shared.core.encoding import b64url, seal, unb64url
from shared.core.errors import DomainError
from shared.core.i18n import N_, translate
from shared.secrets import SecretStore
from shared.secrets.keyring import HmacKey, KeyRing, unseal_with

if TYPE_CHECKING:  # the join route loads this module while the app is indexed: no pydantic models then
    from shared.setup.models import Organisation
    from shared.visits.models import Appointment

CLOSED = frozenset({"cancelled", "deleted"})  # AppointmentStatus values: such an appointment's links are refused

JoinRole = Literal["patient", "guest", "interpreter"]


class SentToMeeting(Protocol):
    """Record that the connector sent someone to a visit's meeting (a launch, a join link): by role, and for a
    patient whose appointment (`whose`, one of a group's), so that meeting events can be told apart."""

    def __call__(
        self, organisation: Organisation, endpoint_id: str, key: str, *, role: JoinRole = ..., whose: str | None = ...
    ) -> object: ...


SECRET_NAME = "join-link-key"


def join_link_keys(secrets: SecretStore, clock: Clock) -> KeyRing:
    """The HMAC keys of join links (and, under a label of their own, of visit sessions): current and previous."""
    return KeyRing(secrets, SECRET_NAME, clock)


class JoinLinkRefused(DomainError):
    """Why a join link cannot be used, in words for the person holding it (no appointment details): `detail` in
    English, `said_in` in the reader's language (the appointment's locale, when the link names one we know)."""

    title = N_("This link cannot be used")

    def __init__(
        self, reason: Literal["invalid", "early", "expired", "cancelled"], detail: str, **values: int | str
    ) -> None:
        super().__init__(detail.format(**values))
        self.reason, self.message, self.values = reason, detail, values
        self.locale: str | None = None
        self.endpoint_id: str | None = None  # a genuine link's: its clinic's lost-link page helps

    def said_in(self, locale: str | None) -> tuple[str, str]:
        """The title and detail in `locale`'s words."""
        return translate(locale, self.title), translate(locale, self.message).format(**self.values)


@dataclass(frozen=True)
class JoinClaims:
    tenant_id: str
    endpoint_id: str
    appointment_key: str
    role: JoinRole
    opens: datetime
    closes: datetime


_PACKED = struct.Struct(">B16s8s20sBII")  # version, tenant GUID, endpoint ID, appointment key, role, nb, exp


_PACKED_VERSION = 1  # the first byte of links texted before key IDs: signed with the current or previous key


_PACKED_WITH_KID = 2  # the first byte's low two bits; its upper six are the signing key's short key ID


_MAC_BYTES = 16


_ROLES: tuple[JoinRole, ...] = ("patient", "guest", "interpreter")


_HEX = re.compile(r"[0-9a-f]+")


def _pack(
    tenant_id: str, endpoint_id: str, appointment_key: str, role: JoinRole, nb: int, exp: int, key: HmacKey
) -> bytes | None:
    """The packed form, when every identifier has the shape it packs (else None: use JSON)."""
    try:
        tenant = uuid.UUID(tenant_id)
    except ValueError:
        return None
    if str(tenant) != tenant_id:  # only the canonical form packs back to the same text
        return None
    for value, length in ((endpoint_id, 16), (appointment_key, 40)):
        if len(value) != length or not _HEX.fullmatch(value):
            return None
    if not 0 <= nb < 2**32 or not 0 <= exp < 2**32:
        return None
    packed = _PACKED.pack(
        key.short_kid << 2 | _PACKED_WITH_KID,
        tenant.bytes,
        bytes.fromhex(endpoint_id),
        bytes.fromhex(appointment_key),
        _ROLES.index(role),
        nb,
        exp,
    )
    return packed


@dataclass(kw_only=True, eq=False)
class JoinLinks:
    secrets: SecretStore
    clock: Clock
    public_base: str
    opens_before: timedelta
    closes_after: timedelta

    def __post_init__(self) -> None:
        self._base = self.public_base.rstrip("/")
        self._keys = join_link_keys(self.secrets, self.clock)

    def _key(self) -> bytes:
        return self._keys.current().value

    def _packed_keys(self, header: int) -> list[HmacKey]:
        """The keys that may have signed a packed token with this first byte."""
        if header == _PACKED_VERSION:
            return self._keys.verifying()
        if header & 0b11 == _PACKED_WITH_KID:
            return self._keys.verifying(lambda key: key.short_kid == header >> 2)
        return []

    def _packed_mac(self, packed: bytes, key: HmacKey | None = None) -> bytes:
        """The MAC under `key`, or under the key the token's first byte names (the one it is issued with)."""
        key = key or next(iter(self._packed_keys(packed[0])), None) or self._keys.current()
        return hmac.new(key.value, packed, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(
        self,
        *,
        tenant_id: str,
        endpoint_id: str,
        appointment_key: str,
        role: JoinRole,
        start: datetime,
        end: datetime,
    ) -> str:
        nb = int((start - self.opens_before).timestamp())
        exp = int((end + self.closes_after).timestamp())
        signing = self._keys.current()
        packed = _pack(tenant_id, endpoint_id, appointment_key, role, nb, exp, signing)
        if packed is not None:
            return self.url_of(b64url(packed + self._packed_mac(packed)))
        payload = {
            "k": signing.kid,
            "t": tenant_id,
            "e": endpoint_id,
            "a": appointment_key,
            "r": role,
            "nb": nb,
            "exp": exp,
        }
        return self.url_of(seal(payload, self._key()))

    def url_of(self, token: str) -> str:
        """The link people get: the token in the fragment, for the join page to post."""
        return f"{self._base}/api/join#{token}"

    def device_test_first(self, link: str) -> str:
        """The same link opening the device test page, whose button then opens the join page with the token."""
        return link.replace(f"{self._base}/api/join#", f"{self._base}/api/device-test#", 1)

    @staticmethod
    def endpoint_named(token: str) -> str | None:
        """The endpoint ID a damaged packed token still names, unchecked: only to point at its clinic's lost-link
        page, which checks it."""
        try:
            raw = unb64url(token[:36])  # the version byte, tenant and endpoint: 25 bytes
        except (binascii.Error, ValueError):
            return None
        return raw[17:25].hex() if len(raw) >= 25 and raw[0] & 0b11 in (_PACKED_VERSION, _PACKED_WITH_KID) else None

    def decode(self, token: str) -> JoinClaims:
        """The claims of a genuine token (signature checked), whatever the time."""
        invalid = JoinLinkRefused(
            "invalid", N_("This link is not valid. Use the most recent text message from your clinic, or call them.")
        )
        if len(token) > 1000:
            raise invalid
        if "." not in token:
            return self._decode_packed(token, invalid)
        payload = unseal_with(self._keys, token)
        if payload is None:
            raise invalid
        try:
            claims = JoinClaims(
                tenant_id=str(payload["t"]),
                endpoint_id=str(payload["e"]),
                appointment_key=str(payload["a"]),
                role=payload["r"],
                opens=datetime.fromtimestamp(int(payload["nb"]), UTC),
                closes=datetime.fromtimestamp(int(payload["exp"]), UTC),
            )
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        if claims.role not in ("patient", "guest", "interpreter"):
            raise invalid
        return claims

    def _decode_packed(self, token: str, invalid: JoinLinkRefused) -> JoinClaims:
        try:
            raw = unb64url(token)
        except (binascii.Error, ValueError):
            raise invalid from None
        if len(raw) != _PACKED.size + _MAC_BYTES:
            raise invalid
        packed, mac = raw[: _PACKED.size], raw[_PACKED.size :]
        if not any(hmac.compare_digest(self._packed_mac(packed, key), mac) for key in self._packed_keys(packed[0])):
            raise invalid
        _, tenant, endpoint, key, role, nb, exp = _PACKED.unpack(packed)
        if role >= len(_ROLES):
            raise invalid
        return JoinClaims(
            tenant_id=str(uuid.UUID(bytes=tenant)),
            endpoint_id=endpoint.hex(),
            appointment_key=key.hex(),
            role=_ROLES[role],
            opens=datetime.fromtimestamp(nb, UTC),
            closes=datetime.fromtimestamp(exp, UTC),
        )

    def check(self, claims: JoinClaims, appointment: Appointment | None, *, default_locale: str) -> None:
        """The link works now: its appointment is not cancelled and is within its window. Refused, it is said in
        the patient's language (a guest's or interpreter's: the clinic's default for its patients)."""
        try:
            if appointment is not None and appointment.status in CLOSED:
                raise JoinLinkRefused(
                    "cancelled", N_("This appointment was cancelled, so the link no longer works. Contact your clinic.")
                )
            self.check_window(claims, (appointment.start, appointment.end) if appointment else None)
        except JoinLinkRefused as refused:
            patients = appointment.locale if appointment is not None and claims.role == "patient" else None
            refused.locale, refused.endpoint_id = patients or default_locale, claims.endpoint_id
            raise

    def check_window(self, claims: JoinClaims, current: tuple[datetime, datetime] | None = None) -> None:
        """The link works within its appointment's window: the appointment's `current` (start, end) when the
        connector knows it (a reschedule moves the window of links already sent), else the one in the link."""
        opens, closes = claims.opens, claims.closes
        if current is not None:
            opens, closes = current[0] - self.opens_before, current[1] + self.closes_after
        now = self.clock.now()
        if now < opens:
            raise JoinLinkRefused(
                "early",
                N_("Your visit is not open yet. Use this link again from {minutes} minutes before your appointment."),
                minutes=int(self.opens_before.total_seconds() // 60),
            )
        if now > closes:
            raise JoinLinkRefused(
                "expired",
                N_("This visit has ended, so the link no longer works. Contact your clinic if you need help."),
            )

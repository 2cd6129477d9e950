"""Who is who in a visit's meeting, from what the connector knows.

The meeting service names a participant by identity only: a user of the organisation's own Entra tenant is a
clinician; anyone else (an anonymous browser guest, a user of another tenant, a phone) could be a patient, an
interpreter or family. What tells them apart is which links the connector opened for whom (a patient's launch or
join link, for which patient of a group; a guest's or interpreter's invite link) and in what order: each new
participant who is not a clinician takes the earliest opened link nobody has taken yet (a patient's link opened
again is the same link; a guest's link opened again soon after, most likely too).

The role is certain when every link still open to take (and every link an earlier guess took) is of that role;
otherwise it is an estimate. A participant no link explains is a guest, or the patient when nobody opened any
link and no patient is in the visit yet; both are estimates. Nothing that claims the patient arrived is written
back for an estimate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.visits.models import ParticipantRole, VisitEvent

SENT = frozenset({"patient_sent", "guest_sent"})
SAME_GUEST = timedelta(minutes=10)
"""A guest's link opened again within this long of the last guest link: a reload, not another guest (a second
guest that soon has their role said as an estimate, which is the safe way to be wrong)."""


def field_of(value: Any, name: str) -> Any:
    """A member of a Graph object, whatever the case of its name (Graph sends both)."""
    if not isinstance(value, dict):
        return None
    lowered = name.lower()
    return next((v for k, v in value.items() if k.lower() == lowered), None)


def whose_link(tenant_id: str, appointment_key: str) -> str:
    """A patient's link, opaque: a group's patients share the meeting, not this."""
    return hashlib.sha256(f"{tenant_id}|link|{appointment_key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Attributed:
    role: ParticipantRole
    estimate: bool
    link: str | None  # the opened link this participant took


class Attribution:
    """The roles of one visit's participants: those its stored events give, and new ones as they come."""

    def __init__(self, tenant_id: str, known: list[VisitEvent]) -> None:
        self._tenant = tenant_id.lower()
        self._people: dict[str, Attributed] = {}
        self._opened: list[tuple[str, ParticipantRole]] = []  # distinct links, in the order first opened
        seen: set[str] = set()
        last_guest: datetime | None = None
        for event in sorted(known, key=lambda e: (e.at, e.id)):
            if event.kind in SENT:
                if event.link is None:  # a guest's link names nobody: openings close together are one person's
                    close = last_guest is not None and event.at - last_guest <= SAME_GUEST
                    last_guest = event.at
                    if close:
                        continue
                link = event.link or event.id
                if link not in seen:
                    seen.add(link)
                    self._opened.append((link, event.role or "patient"))
            elif event.participant and event.role and event.participant not in self._people:
                self._people[event.participant] = Attributed(event.role, event.estimate, event.link)

    def of(self, participant: str, identity: Any) -> Attributed:
        found = self._people.get(participant)
        if found is None:
            found = self._people[participant] = self._attribute(identity)
        return found

    def _attribute(self, identity: Any) -> Attributed:
        user = field_of(identity, "User")
        if user is not None and str(field_of(user, "TenantId") or "").lower() == self._tenant:
            return Attributed("clinician", False, None)
        taken = {p.link for p in self._people.values() if p.link}
        free = [(link, role) for link, role in self._opened if link not in taken]
        if not free:
            nobody_sent = not self._opened and all(p.role != "patient" for p in self._people.values())
            return Attributed("patient" if nobody_sent else "guest", True, None)
        link, role = free[0]
        guessed = {p.link for p in self._people.values() if p.link and p.estimate}
        possible = {r for _, r in free} | {r for found, r in self._opened if found in guessed}
        return Attributed(role, possible != {role}, link)

"""The scheduling feature's services: HL7 ingest, appointments, reminders and phone number retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from shared.messaging.wiring import MessagingServices
from shared.platform import Platform
from shared.scheduling.appointments import AppointmentProcessor
from shared.scheduling.ingest import Hl7Ingest
from shared.scheduling.lost_links import LostLinks
from shared.scheduling.reminder_plan import ReminderPlan
from shared.scheduling.reminders import ReminderService
from shared.scheduling.retention import PhoneRetention
from shared.scheduling.sealing import PhoneSeal
from shared.setup.wiring import SetupServices


@dataclass(eq=False)
class SchedulingServices:
    platform: Platform
    setup: SetupServices
    messaging: MessagingServices

    @cached_property
    def seal(self) -> PhoneSeal:
        return PhoneSeal(self.platform.secrets)

    @cached_property
    def hl7_ingest(self) -> Hl7Ingest:
        return Hl7Ingest(
            tables=self.platform.tables,
            lookups=self.setup.lookups,
            certificates=self.setup.certificates,
            sms=self.messaging.sms,
            seal=self.seal,
            queues=self.platform.geography_queues,
            clock=self.platform.clock,
            max_age=timedelta(hours=self.platform.settings.scheduling.hl7_max_age_hours),
        )

    @cached_property
    def appointments(self) -> AppointmentProcessor:
        return AppointmentProcessor(
            tables=self.platform.tables,
            lookups=self.setup.lookups,
            sms=self.messaging.sms,
            dispatch=self.messaging.dispatch,
            seal=self.seal,
            plan=ReminderPlan(tables=self.platform.tables, sms=self.messaging.sms, clock=self.platform.clock),
            clock=self.platform.clock,
        )

    @cached_property
    def reminders(self) -> ReminderService:
        return ReminderService(
            tables=self.platform.tables,
            queues=self.platform.geography_queues,
            dispatch=self.messaging.dispatch,
            clock=self.platform.clock,
        )

    @cached_property
    def retention(self) -> PhoneRetention:
        return PhoneRetention(tables=self.platform.tables, clock=self.platform.clock)

    @cached_property
    def lost_links(self) -> LostLinks:
        return LostLinks(
            tables=self.platform.tables,
            lookups=self.setup.lookups,
            queues=self.platform.geography_queues,
            seal=self.seal,
            sms=self.messaging.sms,
            notices=self.messaging.patient_notices,
            clock=self.platform.clock,
            opens_before=self.messaging.visits.join_links.opens_before,
        )

"""The messaging feature's services: texts, their delivery events, the SMS setup and phone numbers, with the
SMS and phone number providers SMS_PROVIDER names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from shared.messaging.delivery import SmsEvents
from shared.messaging.dispatch import TextDispatch
from shared.messaging.failed_texts import FailedTexts
from shared.messaging.invite_texts import InviteTexts
from shared.messaging.limiter import SenderLimiter, SmsLimits
from shared.messaging.number_jobs import PhoneNumberJobs
from shared.messaging.patient_notices import PatientNotices
from shared.messaging.phone_numbers import PhoneNumberService
from shared.messaging.providers import SmsSender
from shared.messaging.providers.numbers import PhoneNumberProvider
from shared.messaging.replies import Replies
from shared.messaging.sms_setup import SmsSetup
from shared.messaging.survey_links import SurveyLinks
from shared.messaging.surveys import PostVisitSurveys
from shared.messaging.tables import SendSlotRepository
from shared.messaging.template_lengths import TemplateLengthService
from shared.messaging.texts import SmsService
from shared.platform import Platform
from shared.setup.models import Organisation
from shared.setup.wiring import SetupServices
from shared.visits.join_links import join_link_keys
from shared.visits.wiring import VisitServices


@dataclass(eq=False)
class MessagingServices:
    platform: Platform
    setup: SetupServices
    visits: VisitServices
    numbers: PhoneNumberProvider | None = None
    """A phone number provider to use instead of the configured one (tests hand in the ACS stub's)."""
    texts: SmsSender | None = None
    """An SMS sender to use instead of the configured one (the bench hands in the ACS stub's)."""
    on_confirmed: Callable[[Organisation, str, str], object] | None = None
    """A patient confirmed a visit by replying: the EHR is told, where the endpoint writes back."""

    @cached_property
    def sender(self) -> SmsSender:
        platform, settings = self.platform, self.platform.settings.messaging
        if self.texts is not None:
            return self.texts
        if settings.sms_provider == "outbox":
            from shared.messaging.providers.outbox import OutboxSmsSender

            return OutboxSmsSender(platform.tables, platform.clock)
        from shared.messaging.providers.acs import AcsSmsSender

        return AcsSmsSender.connect(settings.acs_endpoint or "", platform.credential())

    @cached_property
    def number_provider(self) -> PhoneNumberProvider:
        if self.numbers is not None:
            return self.numbers
        settings = self.platform.settings.messaging
        if settings.sms_provider == "outbox":
            from shared.messaging.providers.numbers import LocalPhoneNumbers

            return LocalPhoneNumbers()
        from shared.messaging.providers.acs_numbers import AcsPhoneNumbers

        return AcsPhoneNumbers.connect(settings.acs_endpoint or "", self.platform.credential())

    @cached_property
    def sms_setup(self) -> SmsSetup:
        return SmsSetup(
            tables=self.platform.tables,
            endpoints=self.setup.endpoints,
            audit=self.setup.audit,
            queues=self.platform.queues,
            clock=self.platform.clock,
        )

    @cached_property
    def phone_numbers(self) -> PhoneNumberService:
        return PhoneNumberService(
            tables=self.platform.tables,
            queues=self.platform.queues,
            setup=self.sms_setup,
            endpoints=self.setup.endpoints,
            audit=self.setup.audit,
            clock=self.platform.clock,
            lookups=self.setup.lookups,
        )

    @cached_property
    def number_jobs(self) -> PhoneNumberJobs:
        poll = self.platform.settings.messaging.phone_number_poll_seconds
        return PhoneNumberJobs(
            tables=self.platform.tables,
            provider=self.number_provider,
            queues=self.platform.queues,
            audit=self.setup.audit,
            clock=self.platform.clock,
            poll_seconds=poll,
            max_polls=max(180, 1800 // max(poll, 1)),  # at least half an hour
        )

    @cached_property
    def template_lengths(self) -> TemplateLengthService:
        return TemplateLengthService(
            endpoints=self.setup.endpoints,
            organisations=self.setup.organisations,
            join_links=self.visits.join_links,
            clock=self.platform.clock,
        )

    @cached_property
    def sms(self) -> SmsService:
        return SmsService(
            tables=self.platform.tables,
            setup=self.sms_setup,
            join_links=self.visits.join_links,
            secrets=self.platform.secrets,
            clock=self.platform.clock,
        )

    @cached_property
    def dispatch(self) -> TextDispatch:
        settings = self.platform.settings
        return TextDispatch(
            tables=self.platform.tables,
            lookups=self.setup.lookups,
            queues=self.platform.geography_queues,
            sms=self.sms,
            sender=self.sender,
            limiter=None  # the outbox sends nothing: no provider limit to keep
            if settings.messaging.sms_provider == "outbox"
            else SenderLimiter(slots=self.platform.tables.control(SendSlotRepository), clock=self.platform.clock),
            clock=self.platform.clock,
            limits=SmsLimits(
                per_minute={
                    "toll_free": settings.messaging.sms_rate_per_minute,
                    "geographic": settings.messaging.sms_rate_geographic_per_minute,
                },
                max_attempts=settings.messaging.sms_max_attempts,
                reminder_max_late=timedelta(minutes=settings.scheduling.reminder_max_late_minutes),
            ),
            composers={
                "invite": self.invite_texts.compose,
                "survey": self.surveys.compose,
                "late": self.patient_notices.compose,
                "link-resend": self.patient_notices.compose,
            },
        )

    @cached_property
    def invite_texts(self) -> InviteTexts:
        return InviteTexts(
            tables=self.platform.tables,
            sms=self.sms,
            setup=self.sms_setup,
            enqueue=lambda geography, message: self.dispatch.enqueue(geography, message),
            join_links=self.visits.join_links,
        )

    @cached_property
    def surveys(self) -> PostVisitSurveys:
        return PostVisitSurveys(
            tables=self.platform.tables,
            sms=self.sms,
            links=SurveyLinks(
                keys=join_link_keys(self.platform.secrets, self.platform.clock), public_base=self.platform.public_base
            ),
            enqueue=lambda geography, message: self.dispatch.enqueue(geography, message),
            consents=self.sms_setup.has_consents,
            clock=self.platform.clock,
        )

    @cached_property
    def patient_notices(self) -> PatientNotices:
        return PatientNotices(
            tables=self.platform.tables,
            sms=self.sms,
            setup=self.sms_setup,
            enqueue=lambda geography, message: self.dispatch.enqueue(geography, message),
        )

    @cached_property
    def failed_texts(self) -> FailedTexts:
        return FailedTexts(
            tables=self.platform.tables,
            organisations=self.setup.organisations,
            dispatch=self.dispatch,
            audit=self.setup.audit,
            clock=self.platform.clock,
        )

    @cached_property
    def sms_events(self) -> SmsEvents:
        return SmsEvents(
            tables=self.platform.tables,
            sms=self.sms,
            numbers=self.phone_numbers,
            clock=self.platform.clock,
            replies=self.replies,
        )

    @cached_property
    def replies(self) -> Replies:
        return Replies(
            tables=self.platform.tables,
            lookups=self.setup.lookups,
            sms=self.sms,
            numbers=self.phone_numbers,
            dispatch=self.dispatch,
            sender=self.sender,
            clock=self.platform.clock,
            on_confirmed=self.on_confirmed,
        )
